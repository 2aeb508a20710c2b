import { randomBytes } from 'node:crypto'
import { openRawSocket, rawHttp, startRedis, startTcpForwarder, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

/** The value of one sample of a Prometheus text exposition, e.g. `cubby_redis_reconnects_total{client="storage"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1))
}

describe('Redis metrics of a --redis node', () => {
  it('counts reconnects of the storage and the bus, the catch-up they cause, and the pub/sub messages it got or dropped', async () => {
    await using redis = await startRedis()
    // The node reaches Redis through a forwarder, which can cut every connection at once.
    await using forwarder = await startTcpForwarder(redis.port)
    const admin = randomBytes(24).toString('base64url')
    await using node = await startCliServer({ env: { CUBBY_REDIS: `redis://127.0.0.1:${forwarder.port}`, CUBBY_ADMIN_TOKEN: admin } })
    const scrape = async (): Promise<string> => {
      const res = await rawHttp(node.url, 'GET', '/metrics', { token: admin })
      expect(res.status).toBe(200)
      return res.text
    }
    const before = await scrape()
    for (const client of ['storage', 'bus', 'bus-subscriber']) {
      expect(sample(before, `cubby_redis_reconnects_total{client="${client}"}`), client).toBe(0)
      for (const kind of ['connection', 'script', 'other']) expect(sample(before, `cubby_redis_command_errors_total{client="${client}",kind="${kind}"}`)).toBe(0)
    }
    expect(sample(before, 'cubby_catchups_total{reason="gap"}')).toBe(0)

    // A session makes the node follow alice's channel; a message from "another node" and two broken ones arrive.
    await using alice = await openRawSocket(node.url)
    alice.hello(node.token('alice'))
    await alice.next('synced')
    await redis.cli('PUBLISH', 'cubby:events', JSON.stringify({ n: 'another-node', u: 'nobody-here', e: 'replaced' }))
    await redis.cli('PUBLISH', 'cubby:events', 'not json')
    await redis.cli('PUBLISH', 'cubby:events', '42')
    await vi.waitFor(async () => {
      const text = await scrape()
      expect(sample(text, 'cubby_redis_bus_messages_total{outcome="received"}')).toBe(1)
      expect(sample(text, 'cubby_redis_bus_messages_total{outcome="dropped"}')).toBe(2)
    }, { timeout: 10_000 })

    forwarder.cutAll()
    await vi.waitFor(async () => {
      const text = await scrape()
      for (const client of ['storage', 'bus', 'bus-subscriber']) expect(sample(text, `cubby_redis_reconnects_total{client="${client}"}`), client).toBeGreaterThanOrEqual(1)
      // The subscriber's return makes the sessions of alice (the one user followed) read what they missed.
      expect(sample(text, 'cubby_catchups_total{reason="gap"}')).toBe(1)
    }, { timeout: 15_000 })
    // And the node works on: a write goes through the new connections and reaches alice's session.
    const put = await rawHttp(node.url, 'PUT', '/v1/values/k', { token: node.token('alice'), headers: { 'content-type': 'application/json' }, body: '1' })
    expect(put.status).toBe(200)
    await alice.next('changes', (f) => JSON.stringify(f).includes('"k"'))
  })
})

import { randomBytes } from 'node:crypto'
import { connectTestClient, rawHttp, signTestToken, startRedisCluster, startCliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'

it('syncs two devices of one user live through two cubby-server nodes on a Redis Cluster (sharded pub/sub)', async () => {
  await using cluster = await startRedisCluster({ masters: 3 })
  const secret = randomBytes(32).toString('base64url')
  const env = { CUBBY_SECRET: secret, CUBBY_REDIS_CLUSTER: cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(',') }
  await using a = await startCliServer({ env })
  await using b = await startCliServer({ env })
  const wait = { timeout: 10_000 }
  // Printed right after the listening line the start waits for.
  await vi.waitFor(() => expect(a.output()).toContain('redis cluster: '), wait)
  // Several users, spread over the shards by their hash tags.
  for (const userId of ['alice', 'bob', 'carol']) {
    const token = signTestToken(secret, userId)
    await using onA = connectTestClient(a.url, { auth: token })
    await using onB = connectTestClient(b.url, { auth: token })
    await Promise.all([onA.synced(), onB.synced()])
    await onA.store('from-a', userId)
    await vi.waitFor(async () => expect(await onB.get('from-a')).toBe(userId), wait)
    await onB.store('from-b', userId)
    await vi.waitFor(async () => expect(await onA.get('from-b')).toBe(userId), wait)
  }
}, 60_000)

/** The value of one sample of a Prometheus text exposition. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1))
}

it('takes a dropped shard subscriber that comes back as a possible gap: counts it, resubscribes and catches up', async () => {
  await using cluster = await startRedisCluster({ masters: 3 })
  const secret = randomBytes(32).toString('base64url')
  const admin = randomBytes(24).toString('base64url')
  const env = { CUBBY_SECRET: secret, CUBBY_ADMIN_TOKEN: admin, CUBBY_REDIS_CLUSTER: cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(',') }
  await using a = await startCliServer({ env })
  await using b = await startCliServer({ env })
  const wait = { timeout: 20_000 }
  const scrape = async (): Promise<string> => (await rawHttp(b.url, 'GET', '/metrics', { token: admin })).text
  const users = ['alice', 'bob', 'carol']
  const devices = users.map((userId) => ({
    userId, onA: connectTestClient(a.url, { auth: signTestToken(secret, userId) }), onB: connectTestClient(b.url, { auth: signTestToken(secret, userId) }),
  }))
  try {
    await Promise.all(devices.flatMap((d) => [d.onA.synced(), d.onB.synced()]))
    // Node B follows the users' channels on their shards once a live change reaches it.
    for (const d of devices) {
      await d.onA.store('before', 1)
      await vi.waitFor(async () => expect(await d.onB.get('before')).toBe(1), wait)
    }
    const before = await scrape()
    expect(sample(before, 'cubby_redis_reconnects_total{client="bus-subscriber"}')).toBe(0)
    // Every shard subscriber connection (ioredis names them "ssubscriber") is dropped by the shards themselves.
    let killed = 0
    for (const node of cluster.nodes) {
      for (const line of (await node.cli('CLIENT', 'LIST')).split('\n')) {
        const id = /\bid=(\d+)\b.*\bname=\S*ssubscriber/.exec(line)?.[1]
        if (id !== undefined) killed += Number((await node.cli('CLIENT', 'KILL', 'ID', id)).trim())
      }
    }
    expect(killed).toBeGreaterThan(0)
    // Writes while the subscribers are away reach node B's devices, by the catch-up if not by pub/sub.
    for (const d of devices) await d.onA.store('during', d.userId)
    await vi.waitFor(async () => {
      const text = await scrape()
      expect(sample(text, 'cubby_redis_reconnects_total{client="bus-subscriber"}')).toBeGreaterThan(0)
      expect(sample(text, 'cubby_catchups_total{reason="gap"}')).toBeGreaterThan(sample(before, 'cubby_catchups_total{reason="gap"}'))
    }, wait)
    for (const d of devices) await vi.waitFor(async () => expect(await d.onB.get('during')).toBe(d.userId), wait)
    // And live changes flow again through the new subscribers.
    for (const d of devices) {
      await d.onA.store('after', d.userId)
      await vi.waitFor(async () => expect(await d.onB.get('after')).toBe(d.userId), wait)
    }
    expect(b.output()).not.toMatch(/Unhandled error event/)
  } finally {
    for (const d of devices) {
      await d.onA.close()
      await d.onB.close()
    }
  }
}, 90_000)

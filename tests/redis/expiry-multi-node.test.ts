import { connectUser, openRawSocket, rawHttp, startRedisDeployment, type RawSocket, type TestRedisDeployment } from '@cubby/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

const JSON_TYPE = { 'content-type': 'application/json' }
// The server deletes a value within a second of its moment. Waits allow 1.5 s past it: the sweeper's timer fires at
// the moment on the node that took the write, and the extra half second covers a loaded machine.
const MARGIN_MS = 1500

let deployment: TestRedisDeployment
beforeAll(async () => {
  deployment = await startRedisDeployment()
}, 60_000)
afterAll(async () => {
  await deployment?.[Symbol.asyncDispose]()
})

/** The user's head in Redis (the meta hash of the CLI's default prefix). */
async function headOf(userId: string): Promise<number> {
  return Number((await deployment.redis.cli('HGET', `cubby:{${Buffer.from(userId).toString('hex')}}:m`, 'h')).trim() || 0)
}

/** Stores a value over HTTP on a node, with a ttl (ms) or none; resolves to its rev. */
async function put(node: number, userId: string, key: string, value: unknown, ttl?: number): Promise<number> {
  const query = ttl === undefined ? '' : `?ttl=${ttl}`
  const res = await rawHttp(deployment.nodes[node]!.url, 'PUT', `/v1/values/${key}${query}`, { token: deployment.token(userId), headers: JSON_TYPE, body: JSON.stringify(value) })
  expect(res.status).toBe(200)
  return (res.json as { rev: number }).rev
}

const deletions = (socket: RawSocket, key: string): number =>
  socket.frames.filter((f) => f.type === 'changes' && f.changes.some((c) => 'deleted' in c && c.key === key)).length

/** Waits until a marker value with a ttl longer than any moment before it has been swept (both nodes polled since). */
async function sweptPast(userId: string, ttl: number): Promise<void> {
  const rev = await put(0, userId, 'marker', 1, ttl)
  await vi.waitFor(async () => expect(await headOf(userId)).toBeGreaterThan(rev), { timeout: ttl + 3000, interval: 50 })
}

describe('expiry on two cubby-server nodes sharing one Redis', () => {
  it('deletes a value with no client connected within a second of its moment, and a client connecting later gets the deletion', async () => {
    const rev = await put(0, 'ann', 'draft', 'hi', 1000)
    const moment = Date.now() + 1000
    const got = await rawHttp(deployment.nodes[1].url, 'GET', '/v1/values/draft', { token: deployment.token('ann') })
    const at = Number(got.headers['x-cubby-expires-at'])
    expect(at).toBeGreaterThanOrEqual(moment - 1000)
    expect(got.headers.expires).toBe(new Date(at).toUTCString())
    // The sweep is a write: the head moves past the store, with no client connected anywhere.
    await vi.waitFor(async () => expect(await headOf('ann')).toBe(rev + 1), { timeout: 1000 + MARGIN_MS + 1000, interval: 25 })
    expect(Date.now()).toBeLessThan(at + MARGIN_MS)
    for (const node of deployment.nodes) {
      expect((await rawHttp(node.url, 'GET', '/v1/values/draft', { token: deployment.token('ann') })).status).toBe(404)
    }
    await using later = await connectUser({ url: deployment.nodes[1].url, token: (u) => deployment.token(u) }, 'ann', { cursor: rev })
    await vi.waitFor(() => expect(later.frames.some((f) => f.type === 'changes' && f.changes.some((c) => c.rev === rev + 1 && 'deleted' in c && c.key === 'draft'))).toBe(true))
  })

  it('tells a live client on the other node of the deletion, once, and deletes at one revision', async () => {
    await using watcher = await openRawSocket(deployment.nodes[1].url)
    watcher.hello(deployment.token('bob'))
    await watcher.next('synced')
    const rev = await put(0, 'bob', 'k', 1, 800)
    const deletion = await watcher.next('changes', (f) => f.changes.some((c) => 'deleted' in c && c.key === 'k'))
    expect(deletion.changes).toEqual([{ rev: rev + 1, key: 'k', deleted: true }])
    // Both nodes' sweepers have looked at the index since: still one deletion, one revision.
    await sweptPast('bob', 1200)
    expect(deletions(watcher, 'k')).toBe(1)
    // The store, its deletion, the marker and the marker's deletion: one revision each.
    expect(await headOf('bob')).toBe(rev + 3)
  })

  it('keeps a value re-stored without ttl before its moment', async () => {
    await put(0, 'cat', 'k', 1, 600)
    const rev = await put(1, 'cat', 'k', 2)
    await sweptPast('cat', 1000)
    const got = await rawHttp(deployment.nodes[0].url, 'GET', '/v1/values/k', { token: deployment.token('cat') })
    expect([got.status, got.json, got.headers.expires]).toEqual([200, 2, undefined])
    // The re-store, the marker and the marker's deletion: nothing deleted the key.
    expect(await headOf('cat')).toBe(rev + 2)
  })
})

import { randomBytes } from 'node:crypto'
import { connectTestClient, openRawSocket, rawHttp, signTestToken, startRedis, startTcpForwarder, startCliServer, type TestRedis, type CliServer } from '@cubby/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

/** Two `cubby-server` processes on one Redis, as an operator starts them: same flags, same secret. */
let redis: TestRedis
let a: CliServer
let b: CliServer
const secret = randomBytes(32).toString('base64url')
const admin = randomBytes(24).toString('base64url')
const token = (userId: string): string => signTestToken(secret, userId)
const env = (): Record<string, string> => ({ CUBBY_SECRET: secret, CUBBY_ADMIN_TOKEN: admin, CUBBY_REDIS: redis.url })

beforeAll(async () => {
  redis = await startRedis()
  const args = ['--max-user-keys', String(MAX_KEYS)]
  ;[a, b] = await Promise.all([startCliServer({ args, env: env() }), startCliServer({ args, env: env() })])
}, 60_000)
afterAll(async () => {
  await a?.[Symbol.asyncDispose]()
  await b?.[Symbol.asyncDispose]()
  await redis?.close()
})

const wait = { timeout: 10_000 }
const MAX_KEYS = 100

describe('several cubby-server nodes on one Redis', () => {
  it('syncs two devices of one user on different nodes live, and flushes offline writes through the other node', async () => {
    // Printed right after the listening line the start waits for.
    await vi.waitFor(() => expect(a.output()).toContain(`redis: ${redis.url}`), wait)
    // The secret is read at start in Redis mode; SIGHUP says so instead of pretending to reload it.
    process.kill(a.pid, 'SIGHUP')
    await vi.waitFor(() => expect(a.output()).toContain('SIGHUP ignored with Redis'), wait)
    await using onA = connectTestClient(a.url, { auth: token('alice') })
    await using onB = connectTestClient(b.url, { auth: token('alice') })
    await using other = connectTestClient(b.url, { auth: token('bob') })
    await Promise.all([onA.synced(), onB.synced(), other.synced()])
    await onA.store('from-a', 1)
    await vi.waitFor(async () => expect(await onB.get('from-a')).toBe(1), wait)
    await onB.store('from-b', 2)
    await vi.waitFor(async () => expect(await onA.get('from-b')).toBe(2), wait)
    // Offline on A, the writes wait in its outbox; a new device of the same browser data flushes them through B.
    const name = `alice-laptop-${randomBytes(4).toString('hex')}`
    {
      await using offline = connectTestClient(a.url, { auth: token('alice'), name, connect: false })
      for (let i = 0; i < 5; i++) await offline.store(`offline-${i}`, i)
    }
    await using reloaded = connectTestClient(b.url, { auth: token('alice'), name })
    await reloaded.synced()
    expect(reloaded.pendingCount).toBe(0)
    await vi.waitFor(async () => expect(await onA.get('offline-4')).toBe(4), wait)
    expect(await other.list()).toEqual([])
  })

  it('cuts a user deleted through node A off node B', async () => {
    const issuedBefore = token('doomed')
    await using client = connectTestClient(a.url, { auth: token('doomed') })
    await client.store('k', 1)
    await client.synced()
    await using session = await openRawSocket(b.url)
    session.hello(token('doomed'))
    await session.next('synced')
    const res = await rawHttp(a.url, 'DELETE', '/v1/admin/users/doomed', { token: admin })
    expect(res.json).toEqual({ deleted: true })
    await session.next('user-deleted')
    expect(await session.closed).toBe(4010)
    // The token issued before the deletion no longer opens a session on B either.
    await using again = await openRawSocket(b.url)
    again.hello(issuedBefore)
    expect((await again.next('error')).code).toBe('UNAUTHORIZED')
  })

  it('loses no acknowledged write when node A is killed (-9) while its client writes, and the client moves to node B', async () => {
    await using forwarder = await startTcpForwarder(a.port)
    await using writer = connectTestClient(`http://127.0.0.1:${forwarder.port}`, { auth: token('carol') })
    await using watcher = connectTestClient(b.url, { auth: token('carol') })
    await Promise.all([writer.synced(), watcher.synced()])
    const writes: Array<Promise<void>> = []
    for (let i = 0; i < 60; i++) {
      writes.push(writer.store(`k${i}`, i))
      if (i === 20) await vi.waitFor(async () => expect(await watcher.get('k10')).toBe(10), wait)
      if (i === 30) {
        await a.kill9()
        forwarder.retarget(b.port)
        forwarder.cutAll()
      }
    }
    await Promise.all(writes)
    await writer.synced()
    expect(writer.pendingCount).toBe(0)
    for (let i = 0; i < 60; i++) {
      const got = await rawHttp(b.url, 'GET', `/v1/values/k${i}`, { token: token('carol') })
      expect(got.json).toBe(i)
    }
    await vi.waitFor(async () => expect(await watcher.get('k59')).toBe(59), wait)
    await a.start()
  })

  it('keeps the key quota exact with writers on both nodes', async () => {
    const put = (node: CliServer, key: string) => rawHttp(node.url, 'PUT', `/v1/values/${key}`, {
      token: token('quota'), headers: { 'content-type': 'application/json' }, body: '1', fresh: true,
    })
    const answers = await Promise.all(Array.from({ length: 2 * MAX_KEYS }, (_, i) => put(i % 2 === 0 ? a : b, `k${i}`)))
    const ok = answers.filter((r) => r.status === 200)
    const refused = answers.filter((r) => (r.json as { error?: { code: string } }).error?.code === 'QUOTA_EXCEEDED')
    expect([ok.length, refused.length]).toEqual([MAX_KEYS, MAX_KEYS])
    const listed = await rawHttp(b.url, 'GET', `/v1/values?limit=${2 * MAX_KEYS}`, { token: token('quota') })
    const accepted = answers.flatMap((r, i) => (r.status === 200 ? [`k${i}`] : []))
    expect((listed.json as { keys: string[] }).keys.sort()).toEqual(accepted.sort())
  })

  it('acknowledges nothing while a node cannot reach Redis: the client keeps its write and lands it once Redis is back', async () => {
    await using forwarder = await startTcpForwarder(redis.port)
    await using c = await startCliServer({ env: { ...env(), CUBBY_REDIS: `redis://127.0.0.1:${forwarder.port}` } })
    await using client = connectTestClient(c.url, { auth: token('dana') })
    await client.synced()
    const statuses: string[] = []
    client.addEventListener('status', (e) => void statuses.push(e.detail.status))
    // Redis holds writes back; the commit reaches it, and the node's connection breaks before the answer.
    await redis.cli('CLIENT', 'PAUSE', '10000', 'WRITE')
    const before = forwarder.bytesFromClients
    const big = 'x'.repeat(10_000)
    await client.store('big', big)
    await vi.waitFor(() => expect(forwarder.bytesFromClients).toBeGreaterThan(before + 10_000), wait)
    forwarder.cutAll()
    await vi.waitFor(() => expect(statuses).toContain('offline'), wait)
    await redis.cli('CLIENT', 'UNPAUSE')
    await client.synced()
    expect(client.pendingCount).toBe(0)
    expect((await rawHttp(b.url, 'GET', '/v1/values/big', { token: token('dana') })).json).toBe(big)
  })
})

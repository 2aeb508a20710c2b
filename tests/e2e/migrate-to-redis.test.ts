import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { CLI_PATH, connectTestClient, rawHttp, startRedisDeployment, startCliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'

const run = promisify(execFile)

/** What each user had on the LevelDB server: typed values survive the move. */
const valuesOf = (userId: string): Record<string, unknown> => ({
  name: userId,
  seen: new Set(['a', 'b']),
  prefs: new Map<string, unknown>([['theme', 'dark'], ['size', 3]]),
  when: new Date('2026-01-02T03:04:05.678Z'),
  big: 12345678901234567890n,
  bytes: new Uint8Array([0, 1, 254, 255]),
  nested: { list: [1, 'two', null], deep: { ok: true } },
})
const USERS = ['alice', 'bob', 'user with spaces/and%slash']

it('moves every user from a stopped LevelDB server to Redis nodes as operations.md says, and clients sync on', { timeout: 90_000 }, async () => {
  // 1. A LevelDB deployment in use: three users, typed values, a deleted key; one device keeps its local copy.
  await using level = await startCliServer()
  const deviceName = `alice-laptop-${Date.now()}`
  for (const userId of USERS) {
    await using client = connectTestClient(level.url, { auth: level.token(userId), ...(userId === 'alice' ? { name: deviceName } : {}) })
    for (const [key, value] of Object.entries(valuesOf(userId))) await client.store(key, value)
    await client.store('draft', 'gone soon')
    await client.delete('draft')
    await client.synced()
    expect(client.pendingCount).toBe(0)
  }
  expect(await level.stop()).toBe(0)

  // 2. Export every user from the stopped server's data dir.
  const cli = async (...args: string[]): Promise<string> => (await run(process.execPath, [CLI_PATH, 'users', ...args, '--data-dir', level.dataDir])).stdout
  const listed = (await cli('list')).trim().split('\n').map((line) => (JSON.parse(line) as { userId: string }).userId)
  expect(listed.sort()).toEqual([...USERS].sort())

  // 3. Import each into the Redis nodes through the admin API (same secret as before: tokens keep working).
  await using redis = await startRedisDeployment({ secret: level.secret })
  const [a, b] = redis.nodes
  for (const userId of listed) {
    const exported = await cli('export', userId)
    const res = await rawHttp(a.url, 'POST', `/v1/admin/users/${encodeURIComponent(userId)}/import`, {
      token: redis.adminToken, headers: { 'content-type': 'application/x-ndjson' }, body: exported,
    })
    expect(res.status, userId).toBe(200)
  }

  // 4. A new device of each user, on the other node, gets exactly the values, typed; the deleted key stays deleted.
  for (const userId of USERS) {
    await using device = connectTestClient(b.url, { auth: level.token(userId) })
    const expected = valuesOf(userId)
    // synced() only waits for the outbox: wait for the catch-up itself.
    await vi.waitFor(async () => expect([...await device.list()].sort()).toEqual(Object.keys(expected).sort()), { timeout: 10_000 })
    for (const [key, value] of Object.entries(expected)) expect(await device.get(key), `${userId}/${key}`).toEqual(value)
  }
  // And alice's old device, with its local copy and cursor, continues on the Redis nodes: its writes reach the others.
  await using laptop = connectTestClient(a.url, { auth: level.token('alice'), name: deviceName })
  await using phone = connectTestClient(b.url, { auth: level.token('alice') })
  await Promise.all([laptop.synced(), phone.synced()])
  await laptop.store('after-move', new Map([['ok', 1n]]))
  await vi.waitFor(async () => expect(await phone.get('after-move')).toEqual(new Map([['ok', 1n]])), { timeout: 10_000 })
  await phone.store('from-phone', new Date(0))
  await vi.waitFor(async () => expect(await laptop.get('from-phone')).toEqual(new Date(0)), { timeout: 10_000 })
  expect(await laptop.get('prefs')).toEqual(valuesOf('alice').prefs)
})

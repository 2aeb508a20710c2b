import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { encodeValue } from '@cubby/protocol'
import { CLI_PATH, connectTestClient, openRawSocket, rawHttp, startRedisDeployment, startCliServer } from '@cubby/test-utils'
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

it('does not apply again, after the move, a write whose ack was lost before the export', { timeout: 90_000 }, async () => {
  await using level = await startCliServer()
  const token = level.token('erin')
  const push = (mid: number, value: unknown) => ({
    type: 'push', clientId: 'erin-phone', mutations: [{ op: 'store', mid, key: 'note', value: encodeValue(value) }],
  })
  // The phone's write lands, but its ack never reaches the phone (it goes offline), and the laptop writes after it.
  {
    await using phone = await openRawSocket(level.url)
    phone.hello(token)
    await phone.next('synced')
    phone.send(push(1, 'from the phone'))
    expect((await phone.next('ack')).results).toEqual([{ mid: 1, rev: 1 }])
  }
  {
    await using laptop = connectTestClient(level.url, { auth: token })
    await laptop.store('note', 'from the laptop, later')
    await laptop.synced()
  }
  expect(await level.stop()).toBe(0)
  const exported = (await run(process.execPath, [CLI_PATH, 'users', 'export', 'erin', '--data-dir', level.dataDir])).stdout
  expect(exported).toContain('"type":"client"')

  await using redis = await startRedisDeployment({ secret: level.secret })
  const [a, b] = redis.nodes
  const res = await rawHttp(a.url, 'POST', '/v1/admin/users/erin/import', {
    token: redis.adminToken, headers: { 'content-type': 'application/x-ndjson' }, body: exported,
  })
  expect(res.status).toBe(200)
  // The phone comes back on a Redis node and sends its unacknowledged write again: it is answered, not applied.
  await using phone = await openRawSocket(b.url)
  phone.hello(token, 1)
  await phone.next('synced')
  phone.send(push(1, 'from the phone'))
  expect((await phone.next('ack')).results).toEqual([{ mid: 1, rev: 1 }])
  expect((await rawHttp(a.url, 'GET', '/v1/values/note', { token })).json).toBe('from the laptop, later')
  phone.send(push(2, 'a new phone write'))
  expect((await phone.next('ack', (f) => (f.results as Array<{ mid: number }>)[0]?.mid === 2)).results).toEqual([{ mid: 2, rev: 3 }])
})

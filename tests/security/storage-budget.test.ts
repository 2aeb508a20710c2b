import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { CLI_PATH, type CliServer, connectUser, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { rawHttp } from './attack.js'

const run = promisify(execFile)
const JSON_TYPE = { 'content-type': 'application/json' }
const ADMIN = 'admin-token-of-the-budget-tests'

/** A new anonymous identity from the server, as any visitor gets one. */
async function anonymous(server: CliServer): Promise<{ userId: string; token: string }> {
  const res = await rawHttp(server.url, 'POST', '/v1/identities', {})
  expect(res.status).toBe(201)
  return res.json as { userId: string; token: string }
}

const put = (server: CliServer, token: string, key: string, value: unknown) =>
  rawHttp(server.url, 'PUT', `/v1/values/${key}`, { token, headers: JSON_TYPE, body: JSON.stringify(value) })

async function userIds(server: CliServer): Promise<string[]> {
  const res = await rawHttp(server.url, 'GET', '/v1/admin/users', { token: ADMIN })
  return (res.json as { users: Array<{ userId: string }> }).users.map((u) => u.userId)
}

// Each record counts its key, its encoded value and 64 bytes: key 'k0' + '"' + 100 x + '"' + 64 = 168 bytes.
const VALUE = 'x'.repeat(100)
const RECORD = 2 + 102 + 64

describe('storage budget (--max-total-bytes)', () => {
  it('refuses anonymous identities\' growing writes past the budget with STORAGE_FULL (507), lets the app\'s users and shrinking writes through, and keeps the sum across restarts', async () => {
    await using server = await startCliServer({ args: ['--max-total-bytes', String(5 * RECORD)] })
    const named = server.token('alice')
    const anons = [await anonymous(server), await anonymous(server), await anonymous(server)]
    // Five records from three identities fill the budget exactly.
    for (const anon of anons) expect((await put(server, anon.token, 'k0', VALUE)).status).toBe(200)
    expect((await put(server, anons[0]!.token, 'k1', VALUE)).status).toBe(200)
    expect((await put(server, anons[1]!.token, 'k1', VALUE)).status).toBe(200)
    const full = await put(server, anons[2]!.token, 'k1', VALUE)
    expect([full.status, full.json]).toEqual([507, { error: { code: 'STORAGE_FULL', message: expect.any(String) } }])
    // Over the WebSocket: the write is refused in the ack, takes no rev and leaves nothing.
    const fresh = await anonymous(server)
    await using socket = await connectUser(server, fresh.userId)
    socket.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1' }] })
    expect((await socket.next('ack')).results).toEqual([{ mid: 1, error: { code: 'STORAGE_FULL', message: expect.any(String) } }])
    expect((await rawHttp(server.url, 'GET', '/v1/values/k', { token: fresh.token })).status).toBe(404)
    // The app's own users are not anonymous: the budget does not stop them (their quota does).
    expect((await put(server, named, 'k0', VALUE)).status).toBe(200)
    // An overwrite that does not grow passes; a delete passes and frees the value's bytes.
    expect((await put(server, anons[0]!.token, 'k0', 'y'.repeat(100))).status).toBe(200)
    expect((await rawHttp(server.url, 'POST', '/v1/clear', { token: anons[0]!.token })).status).toBe(200)

    await server.restart()
    // After the restart the sum is loaded again: alice's record is still counted, anons[0]'s cleared ones are not.
    expect((await put(server, anons[2]!.token, 'k1', VALUE)).status).toBe(200)
    expect((await put(server, anons[2]!.token, 'k2', VALUE)).status).toBe(507)
    // Clearing a user frees their bytes at once.
    expect((await rawHttp(server.url, 'POST', '/v1/clear', { token: named })).status).toBe(200)
    expect((await put(server, anons[2]!.token, 'k2', VALUE)).status).toBe(200)
  })
})

describe('pruning anonymous identities', () => {
  it('deletes, while the server runs, anonymous identities that have not written for the period, revoking their tokens, and leaves the app\'s users', async () => {
    // 0.00005 days is 4.3 s; the server checks every 2.2 s.
    await using server = await startCliServer({ args: ['--prune-anonymous-after-days', '0.00005'], env: { CUBBY_ADMIN_TOKEN: ADMIN } })
    const anon = await anonymous(server)
    expect((await put(server, anon.token, 'k', 1)).status).toBe(200)
    expect((await put(server, server.token('alice'), 'k', 1)).status).toBe(200)
    expect(await userIds(server)).toContain(anon.userId)
    await vi.waitFor(async () => expect(await userIds(server)).toEqual(['alice']), { timeout: 20_000, interval: 250 })
    expect((await rawHttp(server.url, 'GET', '/v1/values/k', { token: anon.token })).status).toBe(401)
    expect((await rawHttp(server.url, 'GET', '/v1/values/k', { token: server.token('alice') })).status).toBe(200)
  })

  it('users prune --anonymous-unused-days deletes them from a stopped server\'s data dir, and keeps recent ones', async () => {
    await using server = await startCliServer({ env: { CUBBY_ADMIN_TOKEN: ADMIN } })
    const anon = await anonymous(server)
    expect((await put(server, anon.token, 'k', 1)).status).toBe(200)
    expect((await put(server, server.token('alice'), 'k', 1)).status).toBe(200)
    await server.stop()
    const prune = async (days: string): Promise<unknown> =>
      JSON.parse((await run(process.execPath, [CLI_PATH, 'users', 'prune', '--anonymous-unused-days', days, '--data-dir', server.dataDir])).stdout)
    expect(await prune('1')).toEqual({ pruned: 0 })
    // 0.00002 days is 1.7 s: wait until the identity is that old.
    await vi.waitFor(async () => expect(await prune('0.00002')).toEqual({ pruned: 1 }), { timeout: 20_000, interval: 500 })
    await server.start()
    expect(await userIds(server)).toEqual(['alice'])
    expect((await rawHttp(server.url, 'GET', '/v1/values/k', { token: anon.token })).status).toBe(401)
  })
})

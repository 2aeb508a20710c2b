import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CLI_PATH, connectTestClient, connectUser, craftToken, signTestToken, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { writeHugeUser } from '../e2e/hugeUser.js'
import { answerToHello, rawHttp, stateOf } from './attack.js'

const run = promisify(execFile)
const cli = (args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> =>
  run(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 })
/** A token of the server's secret with the given `iat` (seconds). */
const tokenIssuedAt = (server: { secret: string }, userId: string, iat: number): string => signTestToken(server.secret, userId, { iat })
/** The next whole second: a token issued then is issued after anything done so far. */
const afterNow = (): number => Math.floor(Date.now() / 1000) + 1
/** Runs `run` on a data dir that holds `userId` with 90,000 keys (deleting them took the old server seconds; room for 10,000 more). */
async function withHugeUser(userId: string, run: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cubby-admin-'))
  try {
    await writeHugeUser(dataDir, userId, 90_000)
    await run(dataDir)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}
const lines = (ndjson: string): unknown[] => ndjson.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown)

describe('admin API over HTTP', () => {
  it('requires the admin credential from <data-dir>/admin-token (mode 0600), and nothing else opens it', async () => {
    await using server = await startCliServer()
    const file = join(server.dataDir, 'admin-token')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const admin = (await readFile(file, 'utf8')).trim()
    for (const token of [undefined, 'wrong', server.token('alice'), `${admin}x`]) {
      const res = await rawHttp(server.url, 'GET', '/v1/admin/users', token === undefined ? {} : { token })
      expect([res.status, (res.json as { error: { code: string } }).error.code]).toEqual([401, 'UNAUTHORIZED'])
    }
    // The admin credential is not a user token either.
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: admin })).status).toBe(401)
    expect((await rawHttp(server.url, 'GET', '/v1/admin/users', { token: admin })).json).toEqual({ users: [], next: null })
    expect(server.output()).not.toContain(admin)
  })

  it('lists users page by page, exports one type-preserving as NDJSON, and imports it back identically', async () => {
    await using server = await startCliServer({ env: { CUBBY_ADMIN_TOKEN: 'admin-token-from-the-environment' } })
    const admin = 'admin-token-from-the-environment'
    await using alice = connectTestClient(server.url, { auth: server.token('alice') })
    await alice.store('when', new Date(5))
    await alice.store('tags', new Map([['a', new Set([1n, 2n])]]))
    await alice.store('bytes', new Uint8Array([1, 2, 3]))
    await alice.store('gone', 1)
    await alice.delete('gone')
    for (let i = 0; i < 500; i++) await alice.store(`bulk/${i}`, { i })
    await alice.synced()
    for (const u of ['bob', 'carol']) await rawHttp(server.url, 'PUT', '/v1/values/k', { token: server.token(u), headers: { 'content-type': 'application/json' }, body: '1' })

    const first = await rawHttp(server.url, 'GET', '/v1/admin/users?limit=2', { token: admin })
    const { users, next } = first.json as { users: Array<{ userId: string; head: number; keys: number }>; next: string }
    const rest = (await rawHttp(server.url, 'GET', `/v1/admin/users?limit=2&after=${encodeURIComponent(next)}`, { token: admin })).json as { users: unknown[]; next: null }
    expect([...users, ...rest.users].map((u) => (u as { userId: string }).userId).sort()).toEqual(['alice', 'bob', 'carol'])
    expect(rest.next).toBeNull()

    const exported = await rawHttp(server.url, 'GET', '/v1/admin/users/alice/export', { token: admin })
    expect(exported.headers['content-type']).toMatch(/^application\/x-ndjson/)
    const records = lines(exported.text)
    expect(records[0]).toEqual({ type: 'user', v: 1, userId: 'alice', head: 505, clearRev: 0 })
    expect(records).toContainEqual({ type: 'deleted', key: 'gone', rev: 5 })
    // The header, one line per key, and the exactly-once record of alice's one device.
    expect(records).toHaveLength(1 + 504 + 1)
    expect(records.at(-1)).toEqual({ type: 'client', clientId: expect.any(String), mid: 505, rev: 505 })

    const imported = await rawHttp(server.url, 'POST', '/v1/admin/users/alice%2Fcopy/import', { token: admin, headers: { 'content-type': 'application/x-ndjson' }, body: exported.text })
    expect(imported.json).toEqual({ head: 505, records: 504 })
    const again = await rawHttp(server.url, 'GET', '/v1/admin/users/alice%2Fcopy/export', { token: admin })
    expect(lines(again.text).slice(1)).toEqual(records.slice(1))
    expect(await stateOf(server, 'alice/copy')).toEqual(await stateOf(server, 'alice'))
    await using copy = connectTestClient(server.url, { auth: server.token('alice/copy') })
    await copy.ready()
    expect(await copy.get('tags')).toEqual(new Map([['a', new Set([1n, 2n])]]))
    expect(await copy.get('when')).toEqual(new Date(5))

    // Importing over existing data, or a broken export, is refused and changes nothing.
    const twice = await rawHttp(server.url, 'POST', '/v1/admin/users/alice/import', { token: admin, headers: { 'content-type': 'application/x-ndjson' }, body: exported.text })
    expect([twice.status, (twice.json as { error: { code: string } }).error.code]).toEqual([400, 'BAD_MESSAGE'])
    const broken = `${JSON.stringify({ type: 'user', v: 1, userId: 'x', head: 3, clearRev: 0 })}\n${JSON.stringify({ type: 'value', key: 'k', rev: 1, value: '~[["NoSuchTag"]]' })}\n`
    const bad = await rawHttp(server.url, 'POST', '/v1/admin/users/dave/import', { token: admin, headers: { 'content-type': 'application/x-ndjson' }, body: broken })
    expect((bad.json as { error: { code: string } }).error.code).toBe('INVALID_VALUE')
    expect((await rawHttp(server.url, 'GET', '/v1/admin/users/nobody/export', { token: admin })).status).toBe(404)
  })

  it('deletes a user entirely and tells their live sessions, leaving everyone else alone', async () => {
    await using server = await startCliServer()
    const admin = (await readFile(join(server.dataDir, 'admin-token'), 'utf8')).trim()
    await using doomed = await connectUser(server, 'doomed')
    doomed.send({ type: 'push', clientId: 'phone', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1' }, { op: 'delete', mid: 2, key: 'd' }] })
    await doomed.next('ack')
    await using bystander = await connectUser(server, 'doomed\u0000')
    bystander.send({ type: 'push', clientId: 'phone', mutations: [{ op: 'store', mid: 1, key: 'k', value: '2' }] })
    await bystander.next('ack')

    const res = await rawHttp(server.url, 'DELETE', '/v1/admin/users/doomed', { token: admin })
    expect(res.json).toEqual({ deleted: true })
    expect(await doomed.closed).toBe(4010)
    expect(doomed.frames.at(-1)).toEqual({ type: 'user-deleted' })
    expect(bystander.ws.readyState).toBe(bystander.ws.OPEN)
    // Tokens issued before the deletion are refused (see below); one issued since finds nothing but the clear
    // that takes any copy of the user's data away (the revisions go on from the old head).
    const since = { url: server.url, token: (u: string) => tokenIssuedAt(server, u, afterNow()) }
    expect(await stateOf(since, 'doomed')).toEqual({ head: 2, changes: [{ rev: 2, clear: true }] })
    expect((await stateOf(server, 'doomed\u0000')).head).toBe(1)
    const listed = (await rawHttp(server.url, 'GET', '/v1/admin/users', { token: admin })).json as { users: Array<{ userId: string }> }
    expect(listed.users.map((u) => u.userId)).toEqual(['doomed\u0000'])
    // Its exactly-once records went too: the same client and mid apply afresh (with a token issued since).
    await using back = await connectUser(since, 'doomed')
    back.send({ type: 'push', clientId: 'phone', mutations: [{ op: 'store', mid: 1, key: 'k', value: '3' }] })
    expect((await back.next('ack')).results).toEqual([{ mid: 1, rev: 3 }])
    expect((await rawHttp(server.url, 'DELETE', '/v1/admin/users/nobody', { token: admin })).json).toEqual({ deleted: false })
  })
})

describe('a deletion is a barrier', () => {
  it('lets no write authorised before a deletion commit after it, over HTTP or WebSocket', async () => {
    await withHugeUser('victim', async (dataDir) => {
      await using server = await startCliServer({ dataDir })
      const admin = (await readFile(join(server.dataDir, 'admin-token'), 'utf8')).trim()
      const old = server.token('victim')
      await using socket = await connectUser(server, 'victim')
      // Set before the DELETE is sent: the server may refuse a writer before the DELETE's own answer arrives here.
      let deleting = false
      let started = 0
      const unexpected: number[] = []
      // Writers that keep going, with the old token, until the deletion has answered and they are refused.
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; i < 5000; i++) {
          started++
          const res = await rawHttp(server.url, 'PUT', `/v1/values/w${w}-${i}`, { token: old, headers: { 'content-type': 'application/json' }, body: '1' })
          if (res.status === 401 && deleting) return
          if (res.status !== 200) unexpected.push(res.status)
        }
      }
      const writers = [0, 1, 2, 3].map(writer)
      for (let mid = 1; mid <= 20; mid++) socket.send({ type: 'push', clientId: 'ws', mutations: [{ op: 'store', mid, key: `ws${mid}`, value: '1' }] })
      await vi.waitFor(() => expect(started).toBeGreaterThan(8))
      deleting = true
      expect((await rawHttp(server.url, 'DELETE', '/v1/admin/users/victim', { token: admin })).json).toEqual({ deleted: true })
      await Promise.all(writers)
      expect(unexpected).toEqual([])
      expect(await socket.closed).toBe(4010)
      // Nothing came back: the user is not listed, and a token issued since finds no key.
      const { users } = (await rawHttp(server.url, 'GET', '/v1/admin/users', { token: admin })).json as { users: Array<{ userId: string }> }
      expect(users.map((u) => u.userId)).not.toContain('victim')
      const fresh = tokenIssuedAt(server, 'victim', afterNow())
      expect(((await rawHttp(server.url, 'GET', '/v1/values', { token: fresh })).json as { keys: string[] }).keys).toEqual([])
    })
  }, 120_000)
})

describe('deleting a user revokes their tokens', () => {
  it('refuses every token issued until the deletion, over HTTP and WebSocket, across restarts; later ones start afresh', async () => {
    await using server = await startCliServer()
    const admin = (await readFile(join(server.dataDir, 'admin-token'), 'utf8')).trim()
    const old = server.token('gone')
    const noIat = craftToken({ alg: 'HS256', typ: 'JWT' }, { sub: 'gone' }, server.secret)
    await using client = connectTestClient(server.url, { auth: old })
    await client.store('k', 'v')
    await client.synced()
    expect((await rawHttp(server.url, 'DELETE', '/v1/admin/users/gone', { token: admin })).json).toEqual({ deleted: true })
    const fresh = tokenIssuedAt(server, 'gone', afterNow())

    const refusedLike = async (token: string): Promise<void> => {
      const unknown = craftToken({ alg: 'HS256', typ: 'JWT' }, { sub: 'gone' }, 'not-the-secret')
      const [http, bad] = [await rawHttp(server.url, 'GET', '/v1/values', { token }), await rawHttp(server.url, 'GET', '/v1/values', { token: unknown })]
      // Refused like a badly signed token, except that the reason (given only once the signature checked out) says so.
      expect([http.status, http.json]).toEqual([bad.status, { error: { code: 'UNAUTHORIZED', message: expect.any(String), reason: 'revoked' } }])
      expect(bad.json).toMatchObject({ error: { reason: 'invalid' } })
      expect(http.status).toBe(401)
      expect((await rawHttp(server.url, 'PUT', '/v1/values/k', { token, headers: { 'content-type': 'application/json' }, body: '1' })).status).toBe(401)
      const [ws, badWs] = [await answerToHelloWith(server.url, token), await answerToHelloWith(server.url, unknown)]
      expect(ws).toEqual({ frames: [{ type: 'error', code: 'UNAUTHORIZED', message: expect.any(String), reason: 'revoked' }], close: badWs.close })
      expect(badWs.frames).toEqual([expect.objectContaining({ code: 'UNAUTHORIZED', reason: 'invalid' })])
      expect(ws.close).toBe(4001)
    }
    for (const token of [old, noIat, tokenIssuedAt(server, 'gone', Math.floor(Date.now() / 1000) - 1)]) await refusedLike(token)
    // The refused client did not bring the user back.
    expect(((await rawHttp(server.url, 'GET', '/v1/admin/users', { token: admin })).json as { users: unknown[] }).users).toEqual([])

    // The marker is durable: after a restart the old token is still refused and the CLI lists nobody.
    await client.close()
    await server.stop()
    expect((await cli(['users', 'list', '--data-dir', server.dataDir])).stdout).toBe('')
    await server.start()
    await refusedLike(old)

    // A token issued after the deletion starts an empty user.
    expect(((await rawHttp(server.url, 'GET', '/v1/values', { token: fresh })).json as { keys: string[] }).keys).toEqual([])
    await using again = connectTestClient(server.url, { auth: fresh })
    await again.ready()
    expect(await again.get('k')).toBeUndefined()
    await again.store('k', 'new')
    await again.synced()
    const listed = (await rawHttp(server.url, 'GET', '/v1/admin/users', { token: admin })).json as { users: Array<{ userId: string; keys: number }> }
    expect(listed.users).toEqual([{ userId: 'gone', head: 2, keys: 1, bytes: expect.any(Number) }])
    await refusedLike(old)
  })

  it('lets an import restore a deleted user together with their old tokens', async () => {
    await using server = await startCliServer()
    const admin = (await readFile(join(server.dataDir, 'admin-token'), 'utf8')).trim()
    const old = server.token('back')
    await rawHttp(server.url, 'PUT', '/v1/values/k', { token: old, headers: { 'content-type': 'application/json' }, body: '1' })
    const exported = (await rawHttp(server.url, 'GET', '/v1/admin/users/back/export', { token: admin })).text
    await rawHttp(server.url, 'DELETE', '/v1/admin/users/back', { token: admin })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: old })).status).toBe(401)
    const imported = await rawHttp(server.url, 'POST', '/v1/admin/users/back/import', { token: admin, headers: { 'content-type': 'application/x-ndjson' }, body: exported })
    expect(imported.json).toEqual({ head: 1, records: 1 })
    expect(((await rawHttp(server.url, 'GET', '/v1/values', { token: old })).json as { keys: string[] }).keys).toEqual(['k'])
  })
})

/** The frames and close code a socket gets for a hello with `token`. */
async function answerToHelloWith(url: string, token: string): Promise<{ frames: unknown[]; close: number }> {
  return answerToHello(url, { type: 'hello', v: 1, token, cursor: 0 })
}

describe('cubby-server users (CLI on the data dir)', () => {
  it('refuses while a server holds the data dir, then lists, exports (0600), deletes and imports once it is stopped', async () => {
    await using server = await startCliServer()
    await using alice = connectTestClient(server.url, { auth: server.token('alice') })
    await alice.store('typed', new Set([new Date(1)]))
    await alice.store('plain', { a: 1 })
    await alice.synced()

    const locked = await cli(['users', 'list', '--data-dir', server.dataDir]).then(() => 'ran', (e: { code: number; stderr: string }) => e)
    expect(locked).toMatchObject({ code: 1, stderr: expect.stringContaining('/v1/admin') })

    await alice.close()
    await server.stop()
    expect(lines((await cli(['users', 'list', '--data-dir', server.dataDir])).stdout)).toEqual([{ userId: 'alice', head: 2, keys: 2, bytes: expect.any(Number) }])
    const out = join(server.dataDir, 'alice.ndjson')
    await cli(['users', 'export', 'alice', '--out', out], { CUBBY_DATA_DIR: server.dataDir })
    expect((await stat(out)).mode & 0o777).toBe(0o600)
    const exported = await readFile(out, 'utf8')
    expect(lines((await cli(['users', 'delete', 'alice', '--data-dir', server.dataDir])).stdout)).toEqual([{ deleted: true }])
    expect((await cli(['users', 'list', '--data-dir', server.dataDir])).stdout).toBe('')
    expect(lines((await cli(['users', 'import', 'alice', '--in', out, '--data-dir', server.dataDir])).stdout)).toEqual([{ head: 2, records: 2 }])
    expect((await cli(['users', 'export', 'alice', '--data-dir', server.dataDir])).stdout).toBe(exported)
    await rm(out)

    await server.start()
    await using again = connectTestClient(server.url, { auth: server.token('alice') })
    await again.ready()
    expect(await again.get('typed')).toEqual(new Set([new Date(1)]))
    await vi.waitFor(async () => expect(await again.get('plain')).toEqual({ a: 1 }), { timeout: 10_000 })
  })

  it('explains usage errors', async () => {
    const error = await cli(['users', 'export']).then(() => 'ran', (e: { code: number; stderr: string }) => e)
    expect(error).toMatchObject({ code: 2, stderr: expect.stringContaining('needs a user id') })
  })
})

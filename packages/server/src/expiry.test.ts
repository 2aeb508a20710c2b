import { describe, expect, it, vi } from 'vitest'
import { connectUser, rawHttp, startTestServer } from '@cubby/test-utils'

const JSON_TYPE = { 'content-type': 'application/json' }

// The server deletes a value within a second of its moment. Waits allow 1.5 s past it: the sweeper's timer fires
// at the moment, and the extra half second covers a loaded machine (two cores shared with other test runs).
const MARGIN_MS = 1500

describe('expiry on the server', () => {
  it('deletes an expired value with no write around it and tells a live session, within a second of the moment', async () => {
    await using server = await startTestServer()
    await using watcher = await connectUser(server, 'alice')
    const ttl = 400
    const rev = await server.cubby.store('alice', 'draft', 'hi', { ttl })
    const moment = Date.now() + ttl
    const stored = await watcher.next('changes', (f) => f.changes.some((c) => c.rev === rev))
    expect(stored.changes).toEqual([{ rev, key: 'draft', value: '"hi"', expiresAt: expect.any(Number) }])
    const deletion = await watcher.next('changes', (f) => f.changes.some((c) => 'deleted' in c && c.key === 'draft'))
    expect(Date.now()).toBeLessThan(moment + MARGIN_MS)
    expect(deletion.changes).toEqual([{ rev: rev + 1, key: 'draft', deleted: true }])
    expect(await server.cubby.get('alice', 'draft')).toBeUndefined()
  })

  it('reaches a session that connects after the sweep as a deletion', async () => {
    await using server = await startTestServer()
    const rev = await server.cubby.store('alice', 'k', 1, { ttl: 200 })
    // The sweep is a write: the head moves past the store.
    await vi.waitFor(async () => {
      await using probe = await connectUser(server, 'alice', { cursor: rev })
      expect((await probe.next('welcome')).head).toBe(rev + 1)
    }, { timeout: 3000, interval: 100 })
    await using later = await connectUser(server, 'alice', { cursor: rev })
    const frame = await later.next('changes')
    expect(frame.changes).toEqual([{ rev: rev + 1, key: 'k', deleted: true }])
  })

  it('sweeps at start what expired while the server was down', async () => {
    await using server = await startTestServer()
    const rev = await server.cubby.store('alice', 'k', 1, { expiresAt: Date.now() + 300 })
    await server.stop()
    await new Promise((resolve) => setTimeout(resolve, 400)) // the moment passes while no server runs
    await server.start()
    await using later = await connectUser(server, 'alice', { cursor: rev })
    await vi.waitFor(() => expect(later.frames.some((f) => f.type === 'changes' && f.changes.some((c) => c.rev === rev + 1 && 'deleted' in c))).toBe(true), { timeout: 3000 })
  })

  it('takes a ttl over HTTP (query or header), answers GET with Expires, and refuses a bad ttl with INVALID_VALUE', async () => {
    await using server = await startTestServer()
    const token = server.token('alice')
    const put = await rawHttp(server.url, 'PUT', '/v1/values/a?ttl=60000', { token, headers: JSON_TYPE, body: '1' })
    expect(put.status).toBe(200)
    const get = await rawHttp(server.url, 'GET', '/v1/values/a', { token })
    const at = Number(get.headers['x-cubby-expires-at'])
    expect(at).toBeGreaterThan(Date.now())
    expect(get.headers.expires).toBe(new Date(at).toUTCString())
    await rawHttp(server.url, 'PUT', '/v1/values/b', { token, headers: { ...JSON_TYPE, 'x-cubby-ttl': '60000' }, body: '2' })
    expect((await rawHttp(server.url, 'GET', '/v1/values/b', { token })).headers.expires).toBeDefined()
    // A store without a ttl clears the expiry.
    expect((await rawHttp(server.url, 'PUT', '/v1/values/a', { token, headers: JSON_TYPE, body: '3' })).status).toBe(200)
    expect((await rawHttp(server.url, 'GET', '/v1/values/a', { token })).headers.expires).toBeUndefined()
    for (const ttl of ['0', '-5', 'abc', '1e400', String(11 * 366 * 24 * 3600 * 1000)]) {
      const bad = await rawHttp(server.url, 'PUT', `/v1/values/c?ttl=${ttl}`, { token, headers: JSON_TYPE, body: '1' })
      expect([bad.status, (bad.json as { error: { code: string } }).error.code]).toEqual([400, 'INVALID_VALUE'])
    }
    const both = await rawHttp(server.url, 'PUT', '/v1/values/c?ttl=5', { token, headers: { ...JSON_TYPE, 'x-cubby-ttl': '5' }, body: '1' })
    expect((both.json as { error: { code: string } }).error.code).toBe('BAD_MESSAGE')
  })

  it('refuses a pushed expiresAt beyond ten years with INVALID_VALUE and keeps nothing', async () => {
    await using server = await startTestServer()
    await using socket = await connectUser(server, 'alice')
    socket.send({ type: 'push', clientId: 'c1', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: Date.now() + 11 * 366 * 24 * 3600 * 1000 }] })
    const ack = await socket.next('ack')
    expect(ack.results).toEqual([{ mid: 1, error: { code: 'INVALID_VALUE', message: expect.any(String) } }])
    expect(await server.cubby.get('alice', 'k')).toBeUndefined()
  })

  it('sends the server clock in welcome', async () => {
    await using server = await startTestServer()
    await using socket = await connectUser(server, 'alice')
    const welcome = await socket.next('welcome')
    expect(Math.abs(welcome.now! - Date.now())).toBeLessThan(60_000)
  })
})

import { type Cubby, type CubbyOptions } from '@cubby/client'
import { connectTestClient, rawHttp, signTestToken, startTestServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { watchedWebSocket } from './watchedWebSocket.js'
import { installTestLocks } from './testLocks.js'

// Node has BroadcastChannel and (through fake-indexeddb) one IndexedDB per process, like the tabs of a browser;
// it lacks Web Locks, which this provides.
installTestLocks()

/** Tabs of one app: the same name (so the same IndexedDB database) and token. */
const tabOf = (url: string, options: Partial<CubbyOptions>): Cubby => connectTestClient(url, { name: 'tabs-app', ...options })

describe('new tabs without an identity', () => {
  it('share one anonymous identity when opened together', async () => {
    await using server = await startTestServer()
    // No auth: each tab would create an identity; the second save would orphan the first tab's writes.
    await using a = tabOf(server.url, { name: 'fresh-anonymous-app' })
    await using b = tabOf(server.url, { name: 'fresh-anonymous-app' })
    await Promise.all([a.ready(), b.ready()])
    expect(a.userId).toMatch(/^anon_/)
    expect(b.userId).toBe(a.userId)
  })
})

describe('tabs of one app and user', () => {
  it('share one WebSocket and show one state, live, in every tab', async () => {
    await using server = await startTestServer()
    const sockets = watchedWebSocket()
    const options = { auth: server.token('tara'), WebSocket: sockets.WebSocket }
    await using a = tabOf(server.url, options)
    await using b = tabOf(server.url, options)
    await using c = tabOf(server.url, options)
    await Promise.all([a.ready(), b.ready(), c.ready()])
    expect([a.status, b.status, c.status]).toEqual(['online', 'online', 'online'])
    expect(sockets.opened()).toBe(1)

    const seenByC: unknown[] = []
    c.addEventListener('change', (e) => seenByC.push(e.detail))
    await b.store('note', { text: 'from b' })
    await vi.waitFor(async () => expect(await c.get('note')).toEqual({ text: 'from b' }))
    expect(seenByC[0]).toEqual({ keys: ['note'], changes: [{ key: 'note', value: { text: 'from b' } }], origin: 'remote' })
    await b.synced()
    expect(await server.cubby.get('tara', 'note')).toEqual({ text: 'from b' })
    await vi.waitFor(() => expect([a.pendingCount, b.pendingCount, c.pendingCount]).toEqual([0, 0, 0]))
    expect(await a.get('note')).toEqual({ text: 'from b' })

    await server.cubby.store('tara', 'plan', 'pro')
    await vi.waitFor(async () => expect(await Promise.all([a.get('plan'), b.get('plan'), c.get('plan')])).toEqual(['pro', 'pro', 'pro']))
    // The follower's write went to the server once: the head is at 2 revisions.
    expect(await server.cubby.store('tara', 'probe', 0)).toBe(3)
    expect(sockets.opened()).toBe(1)
  })

  it('show the writes the leader confirmed from acks, which the server does not echo, in every tab for good', async () => {
    await using server = await startTestServer()
    const options = { auth: server.token('ursula') }
    await using leader = tabOf(server.url, options)
    await leader.ready()
    await using follower = tabOf(server.url, options)
    await follower.ready()
    await leader.store('mine', 1)
    await follower.store('theirs', 2)
    await Promise.all([leader.synced(), follower.synced()])
    await vi.waitFor(() => expect([leader.pendingCount, follower.pendingCount]).toEqual([0, 0]))
    // A later change moves every tab's cursor past those writes: they stay, confirmed, not only in an overlay.
    await server.cubby.store('ursula', 'later', 3)
    await vi.waitFor(async () => expect(await follower.get('later')).toBe(3))
    expect([await follower.get('mine'), await follower.get('theirs')]).toEqual([1, 2])
    expect([await leader.get('mine'), await leader.get('theirs')]).toEqual([1, 2])
    await follower.close()
    await using reopened = tabOf(server.url, { ...options, connect: false })
    expect(await reopened.list()).toEqual(['later', 'mine', 'theirs'])
  })

  it('hand the connection to the next tab when the leader closes, which sends what was written meanwhile', async () => {
    await using server = await startTestServer()
    const sockets = watchedWebSocket()
    const options = { auth: server.token('uma'), WebSocket: sockets.WebSocket }
    const first = tabOf(server.url, options)
    await first.ready()
    await using second = tabOf(server.url, options)
    await second.ready()
    await first.close()
    await second.store('after', 1)
    await second.synced()
    expect(await server.cubby.get('uma', 'after')).toBe(1)
    expect(sockets.opened()).toBe(2)
    await vi.waitFor(() => expect(second.status).toBe('online'))
  })

  it('keep a detached tab to itself, and catch it up when it connects again', async () => {
    await using server = await startTestServer()
    const options = { auth: server.token('vera') }
    await using a = tabOf(server.url, options)
    await using b = tabOf(server.url, options)
    await Promise.all([a.ready(), b.ready()])
    b.disconnect()
    expect(b.status).toBe('offline')
    await a.store('from-a', 1)
    await a.synced()
    await b.store('from-b', 2)
    expect(await b.get('from-a')).toBeUndefined()
    expect(await a.get('from-b')).toBeUndefined()
    b.connect()
    await vi.waitFor(async () => expect(await b.get('from-a')).toBe(1))
    await vi.waitFor(async () => expect(await a.get('from-b')).toBe(2))
    await b.synced()
    expect(await server.cubby.get('vera', 'from-b')).toBe(2)
    await vi.waitFor(() => expect(b.status).toBe('online'))
  })

  it('close the other tabs, emptied, when one signs out', async () => {
    await using server = await startTestServer()
    const options = { auth: server.token('wes') }
    const a = tabOf(server.url, options)
    await using b = tabOf(server.url, options)
    await Promise.all([a.ready(), b.ready()])
    await a.store('secret', 1)
    await vi.waitFor(async () => expect(await b.get('secret')).toBe(1))
    const errors: string[] = []
    b.addEventListener('error', (e) => errors.push(e.detail.error.code))
    await a.signOut()
    await vi.waitFor(() => expect(errors).toEqual(['CLOSED']))
    expect(b.getSnapshot('secret')).toBeUndefined()
    expect(b.status).toBe('offline')
  })

  it('learn the server\'s clock from the leader, live and when they join, for the ttl of their writes', async () => {
    await using server = await startTestServer()
    const token = server.token('tilly')
    // One device whose clock is ten minutes behind; a fresh database, so no offset kept from before.
    const options = { auth: token, name: 'clock-tabs-app', now: () => Date.now() - 10 * 60_000 }
    const expiryOf = async (key: string): Promise<number> => Number((await rawHttp(server.url, 'GET', `/v1/values/${key}`, { token })).headers['x-cubby-expires-at'])
    // The server is down while the tabs load: the follower joins a leader that has not met the server yet.
    await server.stop()
    await using leader = tabOf(server.url, options)
    await leader.get('live')
    await using follower = tabOf(server.url, options)
    await follower.get('live')
    await server.start()
    // The follower learns the offset as the leader meets the server, not at its next load.
    await vi.waitFor(() => expect(follower.status).toBe('online'), { timeout: 20_000 })
    const from = Date.now()
    await follower.store('live', 1, { ttl: 60_000 })
    await follower.synced()
    expect(await expiryOf('live')).toBeGreaterThanOrEqual(from + 60_000 - 50)
    // A tab opened later has it too (from the cache the leader wrote it to, or from the leader's answer to its join).
    await using late = tabOf(server.url, options)
    await late.get('late')
    await vi.waitFor(() => expect(late.status).toBe('online'))
    const lateFrom = Date.now()
    await late.store('late', 2, { ttl: 60_000 })
    await late.synced()
    expect(await expiryOf('late')).toBeGreaterThanOrEqual(lateFrom + 60_000 - 50)
  })
})

describe('clients that are not tabs of one app and user', () => {
  it('never share a connection: other names, other users, or tabs: independent', async () => {
    await using server = await startTestServer()
    const sockets = watchedWebSocket()
    const token = server.token('xena')
    await using a = connectTestClient(server.url, { name: 'app-one', auth: token, WebSocket: sockets.WebSocket })
    await using b = connectTestClient(server.url, { name: 'app-two', auth: token, WebSocket: sockets.WebSocket })
    await using c = connectTestClient(server.url, { name: 'app-one', auth: server.token('yuri'), WebSocket: sockets.WebSocket })
    await using d = connectTestClient(server.url, { name: 'app-one', auth: token, WebSocket: sockets.WebSocket, tabs: 'independent' })
    await Promise.all([a.ready(), b.ready(), c.ready(), d.ready()])
    expect(sockets.opened()).toBe(4)
    await a.store('k', 'a')
    await a.synced()
    await vi.waitFor(async () => expect(await b.get('k')).toBe('a'))
    expect(await c.get('k')).toBeUndefined()
  })
})

describe('tabs when the server refuses the token for good', () => {
  it('report it in every tab, not only in the one that connects', async () => {
    await using server = await startTestServer()
    const options = { auth: signTestToken('not-the-server-secret', 'refused-tabs'), userId: 'refused-tabs', name: 'refused-tabs-app' }
    await using a = tabOf(server.url, options)
    await using b = tabOf(server.url, options)
    const stopped: string[] = []
    for (const tab of [a, b]) tab.addEventListener('error', (e) => stopped.push(`${e.detail.error.code} ${e.detail.stopped}`))
    await vi.waitFor(() => expect(stopped).toEqual(['UNAUTHORIZED token', 'UNAUTHORIZED token']))
    expect([a.tabs, b.tabs]).toEqual(['coordinate', 'coordinate'])
    await vi.waitFor(() => expect([a.status, b.status]).toEqual(['offline', 'offline']))
  })

  it("give every tab the server's reason (an expired token), not only the tab that connects", async () => {
    await using server = await startTestServer()
    const expired = signTestToken(server.secret, 'expired-tabs', { exp: Math.floor(Date.now() / 1000) - 60 })
    const options = { auth: expired, userId: 'expired-tabs', name: 'expired-tabs-app' }
    await using a = tabOf(server.url, options)
    await using b = tabOf(server.url, options)
    const reasons: string[] = []
    for (const tab of [a, b]) tab.addEventListener('error', (e) => reasons.push(`${e.detail.error.code} ${e.detail.error.reason} ${e.detail.stopped}`))
    await vi.waitFor(() => expect(reasons).toEqual(['UNAUTHORIZED expired token', 'UNAUTHORIZED expired token']))
  })
})

describe('tabs pointed at a wrong base path', () => {
  it('tell every tab, also one that joins later, that the URL is not Cubby\'s, on the error event and in the status', async () => {
    await using server = await startTestServer()
    const url = `${server.url}/wrong`
    const sockets = watchedWebSocket()
    // A device identity: nothing goes to the server before the socket.
    const options = { name: 'wrong-base-tabs-app', WebSocket: sockets.WebSocket }
    const seen = new Map<Cubby, { errors: Array<{ code: string; message: string }>; statuses: Array<{ status: string; error?: { code: string } }> }>()
    const watch = (tab: Cubby): Cubby => {
      const log = { errors: [] as Array<{ code: string; message: string }>, statuses: [] as Array<{ status: string; error?: { code: string } }> }
      tab.addEventListener('error', (e) => log.errors.push(e.detail.error))
      tab.addEventListener('status', (e) => log.statuses.push(e.detail))
      seen.set(tab, log)
      return tab
    }
    const told = (tab: Cubby): void => {
      const log = seen.get(tab)!
      expect(log.errors.map((e) => e.code)).toEqual(['BAD_MESSAGE'])
      expect(log.errors[0]!.message).toContain(url)
      expect(log.statuses.at(-1)).toMatchObject({ status: 'offline', error: { code: 'BAD_MESSAGE' } })
    }
    await using a = watch(tabOf(url, options))
    await using b = watch(tabOf(url, options))
    await vi.waitFor(() => [a, b].forEach(told), { timeout: 10_000 })
    expect([a.tabs, b.tabs]).toEqual(['coordinate', 'coordinate'])
    // A tab opened after the leader found out hears it when it joins.
    await using c = watch(tabOf(url, options))
    await vi.waitFor(() => told(c), { timeout: 10_000 })
    // Said once in each tab while it stays wrong, not at every attempt.
    const opened = sockets.opened()
    await vi.waitFor(() => expect(sockets.opened()).toBeGreaterThan(opened + 1), { timeout: 15_000 })
    ;[a, b, c].forEach(told)
    expect([a.status, b.status, c.status]).toEqual(['offline', 'offline', 'offline'])
  })
})

import { connectTestClient, signTestToken, startTestServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { type SeenFrame, watchedWebSocket } from './watchedWebSocket.js'

describe('client sync against the real server', () => {
  it('shows a write of one device on another, live, as a remote change', async () => {
    await using server = await startTestServer()
    const token = server.token('alice')
    await using laptop = connectTestClient(server.url, { auth: token })
    await using phone = connectTestClient(server.url, { auth: token })
    await Promise.all([laptop.ready(), phone.ready()])
    expect(laptop.status).toBe('online')
    const seen: unknown[] = []
    phone.addEventListener('change', (e) => seen.push(e.detail))
    await laptop.store('greeting', { text: 'hi', at: new Date(5) })
    await vi.waitFor(async () => expect(await phone.get('greeting')).toEqual({ text: 'hi', at: new Date(5) }))
    expect(seen).toEqual([{ keys: ['greeting'], changes: [{ key: 'greeting', value: { text: 'hi', at: new Date(5) } }], origin: 'remote' }])
    await phone.delete('greeting')
    await vi.waitFor(async () => expect(await laptop.list()).toEqual([]))
  })

  it('sees writes made through the server API, and a clear from another device', async () => {
    await using server = await startTestServer()
    await using client = connectTestClient(server.url, { auth: server.token('bo') })
    await client.ready()
    await server.cubby.store('bo', 'plan', 'pro')
    await vi.waitFor(async () => expect(await client.get('plan')).toBe('pro'))
    await using other = connectTestClient(server.url, { auth: server.token('bo') })
    await other.clear()
    await other.synced()
    await vi.waitFor(async () => expect(await client.list()).toEqual([]))
  })

  it('flushes offline writes in order once connected, and acknowledges them', async () => {
    await using server = await startTestServer()
    await using client = connectTestClient(server.url, { auth: server.token('erin'), connect: false })
    for (let i = 1; i <= 5; i++) await client.store('counter', i)
    await client.store('gone', 1)
    await client.delete('gone')
    expect(client.pendingCount).toBe(7)
    expect(client.status).toBe('offline')
    client.connect()
    await client.synced()
    expect(client.pendingCount).toBe(0)
    expect(await server.cubby.get('erin', 'counter')).toBe(5)
    expect(await server.cubby.get('erin', 'gone')).toBeUndefined()
  })

  it('replays the outbox of a previous page load exactly once', async () => {
    await using server = await startTestServer()
    const token = server.token('frank')
    {
      await using tab = connectTestClient(server.url, { auth: token, name: 'frank-tab', connect: false })
      await tab.store('n', 1)
      await tab.store('n', 2)
    }
    {
      await using reloaded = connectTestClient(server.url, { auth: token, name: 'frank-tab' })
      expect(await reloaded.get('n')).toBe(2)
      expect(reloaded.isPending('n')).toBe(true)
      await reloaded.synced()
      expect(reloaded.isPending('n')).toBe(false)
    }
    // A third load replays nothing: the head stays at 2 revisions.
    await using again = connectTestClient(server.url, { auth: token, name: 'frank-tab' })
    await again.ready()
    await again.synced()
    expect(await again.get('n')).toBe(2)
    expect(await server.cubby.store('frank', 'probe', 0)).toBe(3)
  })

  it('never flickers back to an older remote value while its own later write is pending', async () => {
    await using server = await startTestServer()
    const token = server.token('gina')
    await using a = connectTestClient(server.url, { auth: token })
    await using b = connectTestClient(server.url, { auth: token })
    await Promise.all([a.ready(), b.ready()])
    b.disconnect()
    await a.store('theme', 'dark')
    await a.synced()
    const seenByB: unknown[] = []
    b.addEventListener('change', (e) => {
      for (const change of e.detail.changes) seenByB.push('value' in change ? change.value : 'deleted')
    })
    await b.store('theme', 'light')
    b.connect()
    await b.synced()
    await vi.waitFor(async () => expect(await a.get('theme')).toBe('light'))
    expect(seenByB).toEqual(['light'])
  })

  it('rolls back a write the server rejects and reports its code', async () => {
    await using server = await startTestServer({ limits: { maxValueBytes: 50 } })
    await using client = connectTestClient(server.url, { auth: server.token('nina') })
    const errors: string[] = []
    client.addEventListener('error', (e) => errors.push(e.detail.error.code))
    await client.ready()
    await client.store('big', 'x'.repeat(100))
    expect(await client.get('big')).toBe('x'.repeat(100))
    await client.synced()
    expect(await client.get('big')).toBeUndefined()
    expect(errors).toEqual(['VALUE_TOO_LARGE'])
  })

  it('reconnects after the server restarts and sends what was written meanwhile', async () => {
    await using server = await startTestServer()
    await using client = connectTestClient(server.url, { auth: server.token('ivan') })
    await client.ready()
    const restarted = server.restart()
    await client.store('during', 1)
    await restarted
    await client.synced()
    expect(await server.cubby.get('ivan', 'during')).toBe(1)
    await vi.waitFor(() => expect(client.status).toBe('online'))
  })
})

describe('client auth against the real server', () => {
  it('creates an anonymous identity once and keeps it across reloads', async () => {
    await using server = await startTestServer()
    let userId: string | undefined
    {
      await using first = connectTestClient(server.url, { name: 'anon-tab' })
      await first.store('mine', 1)
      await first.synced()
      userId = first.userId
      expect(userId).toMatch(/^anon_/)
    }
    await using again = connectTestClient(server.url, { name: 'anon-tab' })
    await again.ready()
    expect(again.userId).toBe(userId)
    expect(await again.get('mine')).toBe(1)
  })

  it('stops with UNAUTHORIZED for a refused fixed token', async () => {
    await using server = await startTestServer()
    const forged = signTestToken('not-the-server-secret', 'mallory')
    await using client = connectTestClient(server.url, { auth: forged })
    const errors: string[] = []
    client.addEventListener('error', (e) => errors.push(`${e.detail.error.code} ${e.detail.stopped} ${e.detail.error.reason}`))
    // The server's reason reaches the app: this token is badly signed, not expired or revoked.
    await vi.waitFor(() => expect(errors).toEqual(['UNAUTHORIZED token invalid']))
    expect(client.status).toBe('offline')
  })

  it('asks the auth function again after a refused token', async () => {
    await using server = await startTestServer()
    const good = server.token('olga')
    const auth = vi.fn(async () => (auth.mock.calls.length <= 1 ? `${good}x` : good))
    await using client = connectTestClient(server.url, { auth })
    await client.ready()
    expect(auth.mock.calls.length).toBeGreaterThanOrEqual(2)
  })

  it('refuses to mix users when the server names another user than the open database', async () => {
    await using server = await startTestServer()
    await using client = connectTestClient(server.url, { auth: server.token('bob'), userId: 'alice' })
    const errors: string[] = []
    client.addEventListener('error', (e) => errors.push(e.detail.error.code))
    await client.store('k', 1)
    await vi.waitFor(() => expect(errors).toEqual(['UNAUTHORIZED']))
    expect(client.status).toBe('offline')
    expect(await server.cubby.list('bob')).toEqual([])
  })

  it('signs out: waits for pending writes, then forgets the user locally', async () => {
    await using server = await startTestServer()
    const token = server.token('pia')
    const client = connectTestClient(server.url, { auth: token, name: 'pia-tab' })
    await client.store('k', 1)
    await client.signOut()
    expect(await server.cubby.get('pia', 'k')).toBe(1)
    await using offline = connectTestClient(server.url, { auth: token, name: 'pia-tab', connect: false })
    expect(await offline.get('k')).toBeUndefined()
  })
})

describe('the cache of a device that receives changes', () => {
  it('keeps a key stored and deleted in one push deleted after a reload', async () => {
    await using server = await startTestServer()
    const token = server.token('hugo')
    await using writer = connectTestClient(server.url, { auth: token })
    {
      await using reader = connectTestClient(server.url, { auth: token, name: 'hugo-reader' })
      await Promise.all([writer.ready(), reader.ready()])
      // One tick, one push, one commit: the reader gets both changes of the key in one frame.
      void writer.store('brief', 'gone soon')
      void writer.delete('brief')
      await writer.synced()
      await writer.store('barrier', 1)
      await vi.waitFor(async () => expect(await reader.get('barrier')).toBe(1))
      expect(await reader.list()).toEqual(['barrier'])
    }
    await using reloaded = connectTestClient(server.url, { auth: token, name: 'hugo-reader', connect: false })
    expect(await reloaded.list()).toEqual(['barrier'])
  })
})

describe('a client without echo', () => {
  const changedKeys = (frames: SeenFrame[]): string[] =>
    frames.flatMap((f) => (f.type === 'changes' ? f.changes!.map((c) => c.key ?? '(clear)') : []))

  it('is not sent its own writes back, takes their acks as confirmed, and keeps them across a reload', async () => {
    await using server = await startTestServer()
    const token = server.token('gail')
    const first = watchedWebSocket()
    {
      await using device = connectTestClient(server.url, { auth: token, name: 'gail-device', WebSocket: first.WebSocket })
      await device.ready()
      void device.store('a', 1)
      void device.store('b', { n: 2 })
      void device.delete('a')
      await device.synced()
      await server.cubby.store('gail', 'from-server', 'x')
      await vi.waitFor(async () => expect(await device.get('from-server')).toBe('x'))
      await device.clear()
      await device.store('c', 3)
      await device.synced()
      expect(changedKeys(first.frames)).toEqual(['from-server'])
      expect(await device.list()).toEqual(['c'])
    }
    const server2 = await server.cubby.store('gail', 'probe', 0)
    expect(server2).toBe(7)
    // The reload holds what the acks confirmed, with a cursor at the head before the probe: it is sent only the probe.
    const second = watchedWebSocket()
    await using reloaded = connectTestClient(server.url, { auth: token, name: 'gail-device', WebSocket: second.WebSocket, connect: false })
    expect(await reloaded.list()).toEqual(['c'])
    expect(reloaded.pendingCount).toBe(0)
    reloaded.connect()
    await reloaded.ready()
    expect(changedKeys(second.frames)).toEqual(['probe'])
    expect(await reloaded.list()).toEqual(['c', 'probe'])
  })
})

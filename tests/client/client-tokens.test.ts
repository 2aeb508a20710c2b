import { createMemoryCache } from '@cubby/client'
import { connectTestClient, signTestToken, startTestServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { watchedWebSocket } from './watchedWebSocket.js'

const inSeconds = (s: number): number => Math.floor(Date.now() / 1000) + s

describe('client tokens over time, against the real server', () => {
  it('renews a short-lived token before it expires and carries on with the new one', async () => {
    await using server = await startTestServer()
    const sockets = watchedWebSocket()
    const auth = vi.fn(async () => signTestToken(server.secret, 'zoe', { exp: inSeconds(2) }))
    await using client = connectTestClient(server.url, { auth, WebSocket: sockets.WebSocket })
    const errors: string[] = []
    client.addEventListener('error', (e) => errors.push(e.detail.error.code))
    await client.ready()
    await vi.waitFor(() => expect(sockets.opened()).toBeGreaterThanOrEqual(2), { timeout: 10_000 })
    expect(auth.mock.calls.length).toBeGreaterThanOrEqual(2)
    await client.store('after-renewal', 1)
    await client.synced()
    expect(await server.cubby.get('zoe', 'after-renewal')).toBe(1)
    expect(errors).toEqual([])
  })

  it('asks auth again when the server refuses an expired token, and then sends the queued writes', async () => {
    await using server = await startTestServer()
    let calls = 0
    const auth = vi.fn(async () => signTestToken(server.secret, 'abe', { exp: inSeconds(calls++ === 0 ? -10 : 3600) }))
    await using client = connectTestClient(server.url, { auth, connect: false })
    const errors: string[] = []
    client.addEventListener('error', (e) => errors.push(e.detail.error.code))
    await client.store('queued', 1)
    await client.store('queued', 2)
    client.connect()
    await client.synced()
    expect(await server.cubby.get('abe', 'queued')).toBe(2)
    expect(auth).toHaveBeenCalledTimes(2)
    expect(errors).toEqual([])
    expect(client.pendingCount).toBe(0)
  })

  it('reports UNAUTHORIZED once a renewed token is refused too, and keeps the writes', async () => {
    await using server = await startTestServer()
    const auth = vi.fn(async () => signTestToken('not-the-server-secret', 'cy'))
    await using client = connectTestClient(server.url, { auth })
    const errors: string[] = []
    client.addEventListener('error', (e) => errors.push(e.detail.error.code))
    let stopped: unknown = 'unset'
    client.addEventListener('error', (e) => (stopped = e.detail.stopped))
    await client.store('kept', 1)
    await vi.waitFor(() => expect(errors).toContain('UNAUTHORIZED'))
    // A renewable token: the client goes on asking `auth`, so it has not stopped.
    expect(stopped).toBeUndefined()
    // The error comes after the second refusal; the third call comes with the next attempt, after a backoff.
    await vi.waitFor(() => expect(auth.mock.calls.length).toBeGreaterThanOrEqual(3), { timeout: 10_000 })
    expect(client.pendingCount).toBe(1)
  })

  it('does not replace a refused anonymous identity: it reports UNAUTHORIZED and stays offline', async () => {
    await using server = await startTestServer()
    const cache = createMemoryCache()
    const refused = { userId: 'anon_refused', token: signTestToken('an-old-secret', 'anon_refused') }
    await cache.saveIdentity(refused)
    const fetch = vi.fn(globalThis.fetch)
    await using client = connectTestClient(server.url, { cache, fetch })
    const errors: string[] = []
    client.addEventListener('error', (e) => errors.push(`${e.detail.error.code} ${e.detail.stopped}`))
    await client.store('mine', 1)
    await vi.waitFor(() => expect(errors).toEqual(['UNAUTHORIZED identity']))
    await vi.waitFor(() => expect(client.status).toBe('offline'))
    expect(client.userId).toBe('anon_refused')
    expect(await cache.loadIdentity()).toEqual(refused)
    expect(fetch).not.toHaveBeenCalled()
    expect(await client.get('mine')).toBe(1)
  })
})

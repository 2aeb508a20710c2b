import { CLOSE_CODES, type ServerMessage, parseClientMessage } from '@cubby/protocol'
import { offlineToken } from '@cubby/test-utils/clients'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket, WebSocketServer, type WebSocket as PeerSocket } from 'ws'
import { createMemoryCache } from './cache/createMemoryCache.js'
import { createCubby } from './createCubby.js'

// The real server does not send these yet (user deletion by an admin is being built): a scripted peer speaks
// the protocol as docs/protocol.md describes, for the client's side of it.
const token = offlineToken('alice')

interface Peer {
  url: string
  sockets: PeerSocket[]
  /** Frames received after the hellos. */
  received: string[]
  close(): Promise<void>
}

/** A WebSocket server that welcomes every hello for alice at revision 0 (with `ping`: says it answers pings, and never does). */
async function startPeer({ ping = false }: { ping?: boolean } = {}): Promise<Peer> {
  const wss = new WebSocketServer({ port: 0 })
  const sockets: PeerSocket[] = []
  const received: string[] = []
  const send = (ws: PeerSocket, m: ServerMessage): void => ws.send(JSON.stringify(m))
  wss.on('connection', (ws) => {
    ws.once('message', (data) => {
      parseClientMessage((data as Buffer).toString())
      send(ws, ping ? { type: 'welcome', v: 1, userId: 'alice', head: 0, ping } : { type: 'welcome', v: 1, userId: 'alice', head: 0 })
      send(ws, { type: 'synced', rev: 0 })
      sockets.push(ws)
      ws.on('message', (frame) => received.push((frame as Buffer).toString()))
    })
  })
  await new Promise((resolve) => wss.once('listening', resolve))
  const { port } = wss.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, sockets, received, close: () => new Promise((resolve) => wss.close(() => resolve())) }
}

let peer: Peer | undefined
afterEach(async () => {
  for (const ws of peer?.sockets ?? []) ws.terminate()
  await peer?.close()
})

const connect = (url: string, options: { minDelayMs?: number; cache?: ReturnType<typeof createMemoryCache>; heartbeat?: { idleMs: number; timeoutMs: number } } = {}) =>
  createCubby({
    url,
    auth: token,
    cache: options.cache ?? 'memory',
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    reconnect: { minDelayMs: options.minDelayMs ?? 10, maxDelayMs: options.minDelayMs ?? 100 },
    ...(options.heartbeat && { heartbeat: options.heartbeat }),
  })

describe('Cubby heartbeat', () => {
  it('pings only a server whose welcome says it answers, which an older server does not', async () => {
    peer = await startPeer()
    const cubby = connect(peer.url, { heartbeat: { idleMs: 30, timeoutMs: 60 } })
    await cubby.ready()
    // Ten idle periods in which nothing may happen: a ping that is never sent has no event to wait on.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(peer.received).toEqual([])
    expect(cubby.status).toBe('online')
    await cubby.close()
  })

  it('goes offline and reconnects when a server that answers pings stays silent', async () => {
    peer = await startPeer({ ping: true })
    const cubby = connect(peer.url, { heartbeat: { idleMs: 30, timeoutMs: 60 }, minDelayMs: 1_000 })
    await cubby.ready()
    await vi.waitFor(() => expect(cubby.status).toBe('offline'))
    expect(peer.received).toEqual(['{"type":"ping"}'])
    await vi.waitFor(() => expect(peer!.sockets).toHaveLength(2), { timeout: 3_000 })
    await cubby.close()
  })
})

describe('Cubby when the server ends the session on purpose', () => {
  it('drops the user\'s local data, outbox and identity on user-deleted, and does not reconnect', async () => {
    peer = await startPeer()
    const cache = createMemoryCache()
    await cache.saveIdentity({ userId: 'alice', token })
    const cubby = connect(peer.url, { cache })
    await cubby.ready()
    const errors: string[] = []
    const statuses: string[] = []
    const deleted: string[] = []
    cubby.addEventListener('error', (e) => errors.push(e.detail.error.code))
    cubby.addEventListener('status', (e) => statuses.push(e.detail.status))
    cubby.addEventListener('change', (e) => deleted.push(...e.detail.changes.filter((c) => 'deleted' in c).map((c) => c.key)))
    cubby.disconnect()
    await cubby.store('mine', 1)
    cubby.connect()
    await vi.waitFor(() => expect(peer!.sockets).toHaveLength(2))
    peer.sockets[1]!.send(JSON.stringify({ type: 'user-deleted' }))
    peer.sockets[1]!.close(CLOSE_CODES.USER_DELETED)
    await vi.waitFor(() => expect(errors).toEqual(['UNAUTHORIZED']))
    await vi.waitFor(async () => expect(await cache.loadIdentity()).toBeUndefined())
    expect(statuses.at(-1)).toBe('offline')
    expect(cubby.getSnapshot('mine')).toBeUndefined()
    expect(deleted).toEqual(['mine'])
    expect(await (await cache.open('alice')).load()).toEqual({ entries: [], outbox: [], cursor: 0 })
    await expect(cubby.store('again', 1)).rejects.toMatchObject({ code: 'CLOSED' })
    expect(peer.sockets).toHaveLength(2)
  })

  it('drops the data on close 4010 alone too', async () => {
    peer = await startPeer()
    const cubby = connect(peer.url)
    await cubby.ready()
    const errors: string[] = []
    cubby.addEventListener('error', (e) => errors.push(e.detail.error.code))
    peer.sockets[0]!.close(CLOSE_CODES.USER_DELETED)
    await vi.waitFor(() => expect(errors).toEqual(['UNAUTHORIZED']))
    expect(cubby.status).toBe('offline')
  })

  it('reconnects at once on close 4012 (resync), whatever the backoff', async () => {
    peer = await startPeer()
    await using cubby = connect(peer.url, { minDelayMs: 3_600_000 })
    await cubby.ready()
    peer.sockets[0]!.close(CLOSE_CODES.RESYNC)
    await vi.waitFor(() => expect(peer!.sockets).toHaveLength(2))
    await vi.waitFor(() => expect(cubby.status).toBe('online'))
  })

  it('reports RATE_LIMITED with retryAfter on close 4029, then reconnects', async () => {
    peer = await startPeer()
    await using cubby = connect(peer.url)
    await cubby.ready()
    const errors: Array<{ code: string; retryAfter: number | undefined }> = []
    cubby.addEventListener('error', (e) => errors.push({ code: e.detail.error.code, retryAfter: e.detail.error.retryAfter }))
    peer.sockets[0]!.send(JSON.stringify({ type: 'error', code: 'RATE_LIMITED', message: 'slow down', retryAfter: 1 }))
    peer.sockets[0]!.close(CLOSE_CODES.RATE_LIMITED)
    await vi.waitFor(() => expect(errors).toEqual([{ code: 'RATE_LIMITED', retryAfter: 1 }]))
    // The client waits at least retryAfter (1 s), which is vi.waitFor's default timeout: give it room.
    await vi.waitFor(() => expect(peer!.sockets).toHaveLength(2), { timeout: 10_000 })
    await vi.waitFor(() => expect(cubby.status).toBe('online'), { timeout: 10_000 })
  })
})

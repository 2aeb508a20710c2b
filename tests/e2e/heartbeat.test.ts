import { connectTestClient, openRawSocket, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'

// A browser cannot see the WebSocket pings the server sends, and a connection cut without a close (a sleeping
// laptop, a dropped network) can stay open in it for minutes. A server stopped with SIGSTOP looks the same from
// the client: the socket stays open and nothing answers.
describe('a connection that dies without a close', () => {
  it('is noticed by the heartbeat: offline, then a reconnection that sends what waited, once the server answers', async () => {
    await using server = await startCliServer()
    await using client = connectTestClient(server.url, {
      auth: server.token('hana'),
      heartbeat: { idleMs: 200, timeoutMs: 300 },
      reconnect: { minDelayMs: 50, maxDelayMs: 200 },
    })
    await client.ready()
    await client.store('before', 1)
    await client.synced()
    const statuses: string[] = []
    client.addEventListener('status', (e) => statuses.push(e.detail.status))
    process.kill(server.pid, 'SIGSTOP')
    let stored: Promise<void>
    try {
      await vi.waitFor(() => expect(client.status).not.toBe('online'), { timeout: 5_000 })
      expect(statuses[0]).toBe('offline')
      stored = client.store('while-frozen', 2)
    } finally {
      process.kill(server.pid, 'SIGCONT')
    }
    await stored
    await vi.waitFor(() => expect(client.status).toBe('online'), { timeout: 10_000 })
    await client.synced()
    // On the server, exactly once: two writes, two revisions.
    await using raw = await openRawSocket(server.url)
    raw.hello(server.token('hana'), 0)
    expect((await raw.next('welcome')).head).toBe(2)
    const changes = await raw.next('changes')
    expect(changes.changes).toEqual([{ rev: 1, key: 'before', value: '1' }, { rev: 2, key: 'while-frozen', value: '2' }])
  })

  it('keeps a quiet, live connection: the server answers every ping', async () => {
    await using server = await startCliServer()
    let pongs = 0
    class CountingPongs extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args)
        this.addEventListener('message', (e) => void ((JSON.parse(e.data as string) as { type: string }).type === 'pong' && pongs++))
      }
    }
    await using client = connectTestClient(server.url, {
      auth: server.token('ivo'),
      heartbeat: { idleMs: 50, timeoutMs: 100 },
      WebSocket: CountingPongs as unknown as typeof globalThis.WebSocket,
    })
    await client.ready()
    const statuses: string[] = []
    client.addEventListener('status', (e) => statuses.push(e.detail.status))
    // Ten pings go unanswered by anything but their pongs.
    await vi.waitFor(() => expect(pongs).toBeGreaterThanOrEqual(10), { timeout: 10_000 })
    expect(statuses).toEqual([])
    expect(client.status).toBe('online')
    await client.store('still-here', true)
    await client.synced()
  })
})

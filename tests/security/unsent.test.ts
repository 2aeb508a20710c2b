import { connect, type Socket } from 'node:net'
import { openRawSocket, startCliServer, type RawSocket, type CliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { memoryOf, rawHttp, seed } from './attack.js'
import { upgradeRaw } from './wireFrames.js'

const MIB = 1024 * 1024
const BIG = 'x'.repeat(900_000)

/** Stores `count` values of 900 kB for `userId`. */
async function seedBig(server: CliServer, userId: string, count: number): Promise<void> {
  await seed(server, userId, Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${String(i).padStart(2, '0')}`, BIG])))
}

/** A socket that sends `GET path` and never reads the answer. */
function unreadGet(server: CliServer, path: string, token: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = connect({ port: server.port, host: '127.0.0.1' })
    socket.on('error', () => {})
    const closed = new Promise<void>((done) => socket.once('close', () => done()))
    socket.once('connect', () => {
      socket.pause()
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`)
      resolve({ socket, closed })
    })
  })
}

/** Opens a sync socket for `userId` that stops reading before its hello is answered. */
async function stalledReader(server: CliServer, userId: string): Promise<RawSocket> {
  const socket = await openRawSocket(server.url)
  ;(socket.ws as unknown as { _socket: Socket })._socket.pause()
  socket.hello(server.token(userId))
  return socket
}

describe('HTTP listing', () => {
  it('ends a page of values at maxMessageBytes and hands out next, so that every value comes once', { timeout: 60_000 }, async () => {
    await using server = await startCliServer()
    await seedBig(server, 'lister', 12)
    const token = server.token('lister')
    const seen: string[] = []
    let after: string | null = ''
    for (let pages = 0; after !== null && pages < 20; pages++) {
      const res = await rawHttp(server.url, 'GET', `/v1/values?values=1&limit=1000${after === '' ? '' : `&after=${after}`}`, { token })
      const body = res.json as { entries: Array<{ key: string; value: string }>; next: string | null }
      expect(res.text.length).toBeLessThan(4 * MIB + 1_000_000)
      expect(body.entries.length).toBeLessThan(12)
      seen.push(...body.entries.map((e) => e.key))
      after = body.next
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`))
    // Keys alone still come 1000 to a page.
    const keys = await rawHttp(server.url, 'GET', '/v1/values', { token })
    expect(keys.json).toEqual({ keys: seen, next: null })
  })

  it('cuts clients that ask for large pages and do not read them, and holds little for them meanwhile', { timeout: 60_000 }, async () => {
    await using server = await startCliServer({ args: ['--send-timeout-ms', '2000'] })
    await seedBig(server, 'hoarded', 30)
    const baseline = memoryOf(server.pid).rss
    const readers = await Promise.all(Array.from({ length: 10 }, () => unreadGet(server, '/v1/values?values=1&limit=1000', server.token('hoarded'))))
    // (The readers do not read, so they cannot see the close; the server says it.)
    const cut = (): number => server.output().split('Disconnected an HTTP client that stopped reading').length - 1
    await vi.waitFor(() => expect(cut()).toBe(10), { timeout: 20_000 })
    for (const r of readers) r.socket.destroy()
    // Were whole answers built, 10 x 27 MB several times over (as text, parsed values, the JSON answer, its bytes).
    expect(memoryOf(server.pid).peak - baseline).toBeLessThan(400 * MIB)
    expect((await rawHttp(server.url, 'GET', '/healthz')).status).toBe(200)
  })
})

describe('sync sockets', () => {
  it('cuts a reader none of whose data gets written for --send-timeout-ms, before the heartbeat would', { timeout: 60_000 }, async () => {
    await using server = await startCliServer({ args: ['--send-timeout-ms', '2000'] })
    await seedBig(server, 'stalled', 30)
    await using reader = await stalledReader(server, 'stalled')
    await vi.waitFor(() => expect(server.output()).toMatch(/stopped reading \(nothing written for 2 s/), { timeout: 15_000 })
    ;(reader.ws as unknown as { _socket: Socket })._socket.resume()
    expect(await reader.closed).toBe(1006)
  })

  it('cuts readers that do not keep up once the server holds --max-outbound-bytes unsent', { timeout: 120_000 }, async () => {
    await using server = await startCliServer({ args: ['--max-outbound-bytes', String(4 * MIB), '--send-timeout-ms', '60000'] })
    await seedBig(server, 'popular', 30)
    const readers = [await stalledReader(server, 'popular'), await stalledReader(server, 'popular')]
    try {
      // Over the budget, upgrades are refused, and the stuck readers are cut to make room.
      await vi.waitFor(() => expect(upgradeRaw(server.port)).rejects.toThrow(/503[\s\S]*RATE_LIMITED/), { timeout: 10_000 })
      // Each refused upgrade makes the server look for stuck readers (a reader is stuck after a second without progress).
      await vi.waitFor(async () => {
        await upgradeRaw(server.port).then((u) => u.socket.destroy(), () => {})
        expect(server.output()).toMatch(/stopped reading \(\d+ bytes waiting; the server holds \d+ unsent\)/)
      }, { timeout: 15_000, interval: 200 })
      for (const r of readers) (r.ws as unknown as { _socket: Socket })._socket.resume()
      // The server cuts stuck readers until it is back under the budget: at least one, maybe both (the other, once
      // resumed, may simply be served).
      expect(await Promise.race(readers.map((r) => r.closed))).toBe(1006)
      // Then a reader that keeps up is served in full.
      await vi.waitFor(async () => {
        await using fast = await openRawSocket(server.url)
        fast.hello(server.token('popular'))
        await fast.next('synced')
        expect(fast.frames.filter((f) => f.type === 'changes').flatMap((f) => f.changes as unknown[])).toHaveLength(30)
      }, { timeout: 20_000 })
    } finally {
      for (const r of readers) {
        ;(r.ws as unknown as { _socket: Socket })._socket.resume()
        await r[Symbol.asyncDispose]()
      }
    }
  })
})

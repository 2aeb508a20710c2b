import { type CliServer, connectUser, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { memoryOf, rawHttp } from './attack.js'
import { frameHeader, parseServerFrames, upgradeRaw, writeSome, type UpgradedSocket } from './wireFrames.js'

const MIB = 1024 * 1024

/** The error frames and the close code the server wrote to a raw socket. */
function answer(socket: UpgradedSocket): { errors: unknown[]; close: number | undefined } {
  const frames = parseServerFrames(socket.received())
  const errors = frames.filter(([op]) => op === 1).map(([, p]) => JSON.parse(p.toString()) as { type: string }).filter((f) => f.type === 'error')
  const close = frames.find(([op]) => op === 8)?.[1]
  return { errors, close: close === undefined ? undefined : close.readUInt16BE(0) }
}

/** A raw socket that has said hello as `userId` and got `synced`. */
async function rawSession(server: CliServer, userId: string): Promise<UpgradedSocket> {
  const socket = await upgradeRaw(server.port)
  const hello = Buffer.from(JSON.stringify({ type: 'hello', v: 1, token: server.token(userId), cursor: 0 }))
  socket.socket.write(Buffer.concat([frameHeader(hello.length), hello]))
  await vi.waitFor(() => expect(socket.received().toString('latin1')).toContain('"synced"'), { timeout: 10_000 })
  return socket
}

describe('before the hello', () => {
  it('closes a socket whose first frame passes the hello limit with MESSAGE_TOO_LARGE and 1009, before the frame is in', async () => {
    await using server = await startCliServer()
    const socket = await upgradeRaw(server.port)
    // A legal frame of 4 MiB - 1 (the largest message), of which only 256 KiB is sent.
    await writeSome(socket.socket, Buffer.concat([frameHeader(4 * MIB - 1), Buffer.alloc(256 * 1024, 0x20)]))
    await socket.closed
    expect(answer(socket)).toEqual({ errors: [{ type: 'error', code: 'MESSAGE_TOO_LARGE', message: expect.stringContaining('65536') }], close: 1009 })
  })

  it('counts fragments and pings before the hello against the same limit', async () => {
    await using server = await startCliServer()
    const fragments = await upgradeRaw(server.port)
    for (let i = 0; i < 12 && !fragments.socket.destroyed; i++) {
      await writeSome(fragments.socket, Buffer.concat([frameHeader(8 * 1024, { opcode: i === 0 ? 1 : 0, fin: false }), Buffer.alloc(8 * 1024, 0x20)]))
    }
    await vi.waitFor(() => expect(answer(fragments).close).toBe(1009), { timeout: 10_000 })

    const pings = await upgradeRaw(server.port)
    // One ping at a time, each after the last one's pong: ws itself cuts a client that leaves its pongs unread.
    const frames = (): number => parseServerFrames(pings.received()).length
    for (let i = 0; i < 1000 && answer(pings).close === undefined && !pings.socket.destroyed; i++) {
      await writeSome(pings.socket, Buffer.concat([frameHeader(125, { opcode: 9 }), Buffer.alloc(125)]))
      for (let spin = 0; spin < 10_000 && frames() <= i && !pings.socket.destroyed; spin++) await new Promise(setImmediate)
    }
    await vi.waitFor(() => expect(answer(pings)).toEqual({ errors: [expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' })], close: 1009 }), { timeout: 10_000 })
    fragments.socket.destroy()
    pings.socket.destroy()
  })

  it('holds little memory for many sockets that each send most of a legal first frame and stall', { timeout: 60_000 }, async () => {
    await using server = await startCliServer()
    await using bystander = await connectUser(server, 'bystander')
    const baseline = memoryOf(server.pid).rss
    const sockets: UpgradedSocket[] = []
    try {
      // 150 sockets, each 2 MiB into a frame of 4 MiB - 1: were it buffered, 300 MiB.
      for (let i = 0; i < 150; i++) {
        const socket = await upgradeRaw(server.port)
        sockets.push(socket)
        socket.socket.write(Buffer.concat([frameHeader(4 * MIB - 1), Buffer.alloc(2 * MIB, 0x5b)]))
      }
      // The server cuts every one of them; they never get as far as the hello timeout.
      await vi.waitFor(() => expect(sockets.filter((s) => s.socket.destroyed || answer(s).close !== undefined)).toHaveLength(150), { timeout: 8_000 })
      expect(memoryOf(server.pid).peak - baseline).toBeLessThan(100 * MIB)
      expect((await rawHttp(server.url, 'GET', '/healthz')).status).toBe(200)
      bystander.send({ type: 'push', clientId: 'b', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1' }] })
      expect((await bystander.next('ack')).results).toEqual([{ mid: 1, rev: 1 }])
    } finally {
      for (const s of sockets) s.socket.destroy()
    }
  })
})

describe('pings', () => {
  it('count against the connection\'s rate limit, and a flood is closed with RATE_LIMITED', async () => {
    await using server = await startCliServer({ args: ['--rate-per-connection', '1', '--burst-per-connection', '5'] })
    await using socket = await connectUser(server, 'pinger')
    for (let i = 0; i < 50; i++) socket.ws.ping()
    expect(await socket.closed).toBe(4029)
    expect(socket.frames.filter((f) => f.type === 'error')).toEqual([{ type: 'error', code: 'RATE_LIMITED', message: expect.any(String), retryAfter: 1 }])
  })
})

describe('inbound budget', () => {
  it('refuses upgrades while the server holds its budget of partly received frames, and closes a socket that adds to it', { timeout: 30_000 }, async () => {
    await using server = await startCliServer({ args: ['--max-inbound-bytes', String(MIB)] })
    const small: UpgradedSocket[] = []
    const big = await rawSession(server, 'big')
    try {
      // Twenty sockets each 60 KiB into a frame: 1.2 MiB held in all, none of them much.
      for (let i = 0; i < 20; i++) small.push(await rawSession(server, `small-${i}`))
      for (const socket of small) await writeSome(socket.socket, Buffer.concat([frameHeader(2 * MIB), Buffer.alloc(60 * 1024, 0x20)]))
      await vi.waitFor(() => expect(upgradeRaw(server.port)).rejects.toThrow(/503[\s\S]*RATE_LIMITED/), { timeout: 10_000 })
      // A socket that adds a large part of a frame on top is closed, with the error first.
      await writeSome(big.socket, Buffer.concat([frameHeader(2 * MIB), Buffer.alloc(100 * 1024, 0x20)]))
      await vi.waitFor(() => expect(answer(big).close).toBe(4029), { timeout: 10_000 })
      expect(answer(big).errors).toEqual([{ type: 'error', code: 'RATE_LIMITED', message: expect.stringContaining('busy'), retryAfter: 5 }])
      expect(small.map((s) => answer(s).close)).toEqual(Array(20).fill(undefined))
      // Once some go, the server takes new sockets again.
      for (const s of small.slice(0, 10)) s.socket.destroy()
      await vi.waitFor(async () => (await upgradeRaw(server.port)).socket.destroy(), { timeout: 10_000 })
    } finally {
      big.socket.destroy()
      for (const s of small) s.socket.destroy()
    }
  })
})

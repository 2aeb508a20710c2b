import { connect, type Socket } from 'node:net'
import { connectUser, rawHttp, startCliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'

/** An idle TCP connection and what the server wrote to it before it closed (if it did). */
interface Idle {
  socket: Socket
  received: () => string
  closed: boolean
}

function openIdle(port: number): Promise<Idle> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const socket = connect(port, '127.0.0.1')
    const idle: Idle = { socket, received: () => Buffer.concat(chunks).toString(), closed: false }
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => {})
    socket.once('close', () => (idle.closed = true))
    socket.once('connect', () => resolve(idle))
    socket.once('error', () => resolve(idle))
  })
}

it('caps connections below the open-file limit: excess sockets are refused with RATE_LIMITED, and a bystander still writes', { timeout: 60_000 }, async () => {
  await using server = await startCliServer({ wrapper: ['prlimit', '--nofile=256:256'] })
  // The cap is derived from the limit, keeping a reserve for the database.
  expect(server.output()).toMatch(/At most 192 connections \(not 10000\): the open-file limit is 256/)
  await using bystander = await connectUser(server, 'bystander')

  const idle: Idle[] = []
  try {
    for (let i = 0; i < 400; i++) idle.push(await openIdle(server.port))
    // Every socket over the cap is answered and closed by the server, the others stay open.
    await vi.waitFor(() => expect(idle.filter((s) => s.closed).length).toBeGreaterThanOrEqual(400 - 192), { timeout: 20_000 })
    const refused = idle.filter((s) => s.closed)
    expect(idle.length - refused.length).toBeLessThanOrEqual(192 - 1)
    for (const s of refused) {
      expect(s.received()).toMatch(/^HTTP\/1\.1 503 [\s\S]*"code":"RATE_LIMITED"/)
    }

    // The database still has descriptors: the bystander's writes land, enough of them to flush LevelDB's memtable.
    for (let i = 1; i <= 12; i++) {
      bystander.send({ type: 'push', clientId: 'b', mutations: [{ op: 'store', mid: i, key: `k${i}`, value: JSON.stringify('x'.repeat(900_000)) }] })
      const ack = await bystander.next('ack', (f) => (f.results as Array<{ mid: number }>)[0]!.mid === i)
      expect(ack.results).toEqual([{ mid: i, rev: i }])
    }
  } finally {
    for (const s of idle) s.socket.destroy()
  }
  // Once the idle sockets are gone, new connections are served again.
  await vi.waitFor(async () => expect((await rawHttp(server.url, 'GET', '/healthz')).status).toBe(200), { timeout: 20_000 })
  const got = await rawHttp(server.url, 'GET', '/v1/values/k12', { token: server.token('bystander') })
  expect(got.status).toBe(200)
})

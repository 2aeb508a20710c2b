import type { Socket } from 'node:net'
import { connectUser, openRawSocket, type RawSocket, startCliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'
import { memoryOf } from './attack.js'

const MIB = 1024 * 1024
/** A client that stops reading: the server's writes to it pile up in its socket. */
const stopReading = (socket: RawSocket): Socket => {
  const tcp = (socket.ws as unknown as { _socket: Socket })._socket
  tcp.pause()
  return tcp
}
const push = (mid: number, key: string, bytes: number): object =>
  ({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid, key, value: JSON.stringify('x'.repeat(bytes)) }] })

it('keeps memory flat while many readers stall, and cuts a client that stops reading but keeps sending', { timeout: 180_000 }, async () => {
  // The stall clock (--send-timeout-ms, 20 s; tests/security/unsent.test.ts) and the heartbeat (a paused socket
  // answers no ping: cut within 30 to 60 s) would cut the stalled readers as soon as a phase below takes longer, as
  // it does on a loaded machine (the readers then got 3 of 80 changes): this test is about the buffer limit only.
  const slow = ['--send-timeout-ms', '600000', '--heartbeat-ms', '600000']
  const args = ['--max-message-bytes', String(2 * MIB), '--max-send-buffer-bytes', String(8 * MIB), ...slow]
  await using server = await startCliServer({ args })
  const baseline = memoryOf(server.pid).rss

  // Ten readers of one user stop reading while a writer stores 80 MiB for that user. Were their frames kept in
  // memory, the server would hold 800 MiB more; it holds what fits in the socket buffers and a few frames each.
  const stalled = await Promise.all(Array.from({ length: 10 }, () => connectUser(server, 'shared')))
  stalled.forEach(stopReading)
  await using writer = await connectUser(server, 'shared')
  await using floodWriter = await connectUser(server, 'flooder')
  for (let i = 1; i <= 80; i++) {
    writer.send(push(i, `k${i % 8}`, MIB - 100))
    await writer.next('ack', (f) => (f.results as Array<{ mid: number }>)[0]!.mid === i)
  }
  const afterStall = memoryOf(server.pid).rss
  expect(afterStall - baseline).toBeLessThan(250 * MIB)

  // A client that does not read but goes on sending. Big writes of its user fill its socket; then the acks of
  // its own many small writes, held back behind the changes it does not take, pile up until the limit.
  await using flooder = await connectUser(server, 'flooder')
  const tcp = stopReading(flooder)
  for (let i = 1; i <= 20; i++) {
    floodWriter.send(push(i, `big${i}`, MIB - 100))
    await floodWriter.next('ack', (f) => (f.results as Array<{ mid: number }>)[0]!.mid === i)
  }
  const cuts = (): string[] => server.output().split('\n').filter((line) => line.includes('stopped reading'))
  for (let i = 0; i < 1_000 && flooder.ws.bufferedAmount < 64 * MIB && cuts().length === 0; i++) {
    const mutations = Array.from({ length: 1000 }, (_, j) => ({ op: 'delete', mid: 1 + i * 1000 + j, key: 'x' }))
    flooder.send({ type: 'push', clientId: 'c', mutations })
    // Paces the bounded flood (the loop's condition is the wait): the socket's buffer fills between pushes.
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  // Only the flooder went over its buffer: the stalled readers hold a few frames each.
  await vi.waitFor(() => expect(cuts()).toHaveLength(1), { timeout: 20_000 })
  expect(cuts()[0]).toMatch(/Disconnected a client that stopped reading \(\d+ bytes waiting to be sent\)/)
  // The server destroyed the socket; the client learns it once it reads again (a paused socket never sees the FIN).
  tcp.resume()
  expect(await flooder.closedWithin(30_000)).toBe(1006)
  expect(memoryOf(server.pid).rss - baseline).toBeLessThan(300 * MIB)

  // The stalled readers were never cut for being slow: once they read again, they catch up in full.
  for (const reader of stalled) {
    ;(reader.ws as unknown as { _socket: Socket })._socket.resume()
    // 80 MiB to read through a loopback socket: on a loaded machine (CI beside other runs) that takes well over 10 s.
    await reader.next('changes', (f) => f.rev === 80, { timeoutMs: 60_000 })
    await reader[Symbol.asyncDispose]()
  }
  // And everyone else is served as before.
  await using other = await openRawSocket(server.url)
  other.hello(server.token('bystander'))
  await other.next('synced')
})

import type { Socket } from 'node:net'
import type { ChangesMessage } from '@cubby/protocol'
import { expect, it } from 'vitest'
import { connectUser, openRawSocket, startTestServer } from '@cubby/test-utils'

it('keeps a slow reader exact: every change once and in order after it stalls and resumes', async () => {
  await using server = await startTestServer({ limits: { maxMessageBytes: 4096, maxValueBytes: 2048 } })
  await using reader = await connectUser(server, 'alice')
  // Stop reading on the client, so the server's socket fills up and its buffer grows.
  const socket = (reader.ws as unknown as { _socket: Socket })._socket
  socket.pause()
  const value = 'x'.repeat(1500)
  const writes = Array.from({ length: 4000 }, (_, i) => server.cubby.store('alice', `k${i % 3000}`, `${i}${value}`))
  const revs = await Promise.all(writes)
  socket.resume()
  const head = Math.max(...revs)
  await reader.next('changes', (m) => m.rev === head)
  const seen = reader.frames.filter((m): m is ChangesMessage => m.type === 'changes').flatMap((m) => m.changes)
  const seenRevs = seen.map((c) => c.rev)
  expect(seenRevs).toEqual([...new Set(seenRevs)].sort((a, b) => a - b))
  const latest = new Map(seen.map((c) => ['key' in c ? c.key : '', 'value' in c ? c.value : '']))
  expect(latest.size).toBe(3000)
  expect(latest.get('k0')).toBe(JSON.stringify(`3000${value}`))
})

it('paces a cold catch-up by the reader and ends it exact, with writes racing the scan', async () => {
  await using server = await startTestServer({ limits: { maxMessageBytes: 4096, maxValueBytes: 2048 }, pullBatchSize: 100 })
  const value = 'x'.repeat(1500)
  await Promise.all(Array.from({ length: 2000 }, (_, i) => server.cubby.store('alice', `k${i}`, `${i}${value}`)))
  await using reader = await openRawSocket(server.url)
  // Stop reading before the hello: the scan has to wait for the socket again and again.
  const socket = (reader.ws as unknown as { _socket: Socket })._socket
  socket.pause()
  reader.send({ type: 'hello', v: 1, token: server.token('alice'), cursor: 0 })
  const writes = Array.from({ length: 300 }, (_, i) =>
    i % 3 === 0 ? server.cubby.delete('alice', `k${i * 5}`) : server.cubby.store('alice', `k${i * 7}`, `w${i}`))
  const head = Math.max(...(await Promise.all(writes)))
  socket.resume()
  await reader.next('changes', (m) => m.rev === head)
  const frames = reader.frames.filter((m): m is ChangesMessage => m.type === 'changes')
  const revs = frames.flatMap((m) => m.changes.map((c) => c.rev))
  expect(new Set(revs).size).toBe(revs.length)
  expect(frames.map((m) => m.rev)).toEqual(frames.map((m) => m.rev).sort((a, b) => a - b))
  const state = new Map<string, string>()
  for (const c of frames.flatMap((m) => m.changes)) {
    if ('deleted' in c) state.delete(c.key)
    else if ('value' in c) state.set(c.key, c.value)
  }
  expect(state).toEqual(new Map((await server.cubby.entries('alice')).map(([k, v]) => [k, JSON.stringify(v)])))
})

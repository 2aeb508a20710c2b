import type { Socket } from 'node:net'
import type { ChangesMessage } from '@cubby/protocol'
import { expect, it } from 'vitest'
import { connectUser } from '../testing/openRawSocket.js'
import { startTestServer } from '../testing/startTestServer.js'

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
  await reader.waitFor('changes', (m) => m.rev === head)
  const seen = reader.messages.filter((m): m is ChangesMessage => m.type === 'changes').flatMap((m) => m.changes)
  const seenRevs = seen.map((c) => c.rev)
  expect(seenRevs).toEqual([...new Set(seenRevs)].sort((a, b) => a - b))
  const latest = new Map(seen.map((c) => ['key' in c ? c.key : '', 'value' in c ? c.value : '']))
  expect(latest.size).toBe(3000)
  expect(latest.get('k0')).toBe(JSON.stringify(`3000${value}`))
})

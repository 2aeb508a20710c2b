import type { Change, ChangesMessage } from '@cubby/protocol'
import { expect, it } from 'vitest'
import { connectUser } from '../testing/openRawSocket.js'
import { startTestServer } from '../testing/startTestServer.js'

/** Applies changes the way a client does. */
function replay(changes: Change[]): Map<string, string> {
  const state = new Map<string, string>()
  for (const c of changes) {
    if ('clear' in c) state.clear()
    else if ('deleted' in c) state.delete(c.key)
    else state.set(c.key, c.value)
  }
  return state
}

it('ends a client that connects during heavy writing in exactly the server state', async () => {
  await using server = await startTestServer({ pullBatchSize: 50 })
  const { cubby } = server
  await Promise.all(Array.from({ length: 1000 }, (_, i) => cubby.store('alice', `k${i}`, i)))
  const writes: Array<Promise<number>> = []
  for (let i = 0; i < 600; i++) {
    const key = `k${(i * 7) % 1200}`
    writes.push(i === 300 ? cubby.clear('alice') : i % 5 === 0 ? cubby.delete('alice', key) : cubby.store('alice', key, `v${i}`))
  }
  await using reader = await connectUser(server, 'alice')
  const head = Math.max(...(await Promise.all(writes)))
  await reader.waitFor('changes', (m) => m.rev === head)
  const frames = reader.messages.filter((m): m is ChangesMessage => m.type === 'changes')
  const changes = frames.flatMap((m) => m.changes)
  // Each change once; the frames never move the cursor back; after the snapshot's last frame (the first that moves
  // the cursor), in revision order.
  const revs = changes.map((c) => c.rev)
  expect(new Set(revs).size).toBe(revs.length)
  expect(frames.map((m) => m.rev)).toEqual(frames.map((m) => m.rev).sort((a, b) => a - b))
  const live = frames.slice(frames.findIndex((m) => m.rev > 0) + 1).flatMap((m) => m.changes.map((c) => c.rev))
  expect(live).toEqual([...live].sort((a, b) => a - b))
  const expected = new Map((await cubby.entries('alice')).map(([k, v]) => [k, JSON.stringify(v)]))
  expect(replay(changes)).toEqual(expected)
})

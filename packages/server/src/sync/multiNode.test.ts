import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangesMessage } from '@cubby/protocol'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { connectUser, openRawSocket, type RawSocket, startTestServer, type TestServer } from '@cubby/test-utils'
import { createLevelStorage } from '../storage/createLevelStorage.js'
import { createMemoryBusNetwork, type MemoryBus, type MemoryBusNetwork } from '../testing/createMemoryBus.js'

/** Two servers on one LevelDB storage, joined by an in-process bus. */
async function twoNodes(test: (nodes: { a: TestServer; b: TestServer; busB: MemoryBus; network: MemoryBusNetwork }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-nodes-'))
  const db = new Level(join(dir, 'db'))
  const storage = createLevelStorage({ db })
  const network = createMemoryBusNetwork()
  const busA = network.node()
  const busB = network.node()
  try {
    await using a = await startTestServer({ storage, bus: busA, secret: 'shared-secret' })
    await using b = await startTestServer({ storage, bus: busB, secret: 'shared-secret' })
    await test({ a, b, busB, network })
  } finally {
    await busA.close()
    await busB.close()
    await storage.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** The highest rev the socket was sent, and each change's rev in the order sent. */
function received(socket: RawSocket): { rev: number; revs: number[] } {
  const frames = socket.frames.filter((m): m is ChangesMessage => m.type === 'changes')
  return { rev: Math.max(0, ...frames.map((m) => m.rev)), revs: frames.flatMap((m) => m.changes.map((c) => c.rev)) }
}

describe('several nodes on one storage', () => {
  it('sends a session the commits of another node live, in order, and nothing of other users', async () => {
    await twoNodes(async ({ a, b }) => {
      await using reader = await connectUser(b, 'alice')
      await using bystander = await connectUser(b, 'bob')
      await using writer = await connectUser(a, 'alice', { cursor: 0, echo: false })
      writer.send({ type: 'push', clientId: 'c1', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1' }] })
      await writer.next('ack')
      await a.cubby.store('alice', 'j', 2)
      await reader.next('changes', (m) => m.rev === 2)
      expect(received(reader).revs).toEqual([1, 2])
      // The writer's own change is left out (no echo); the other write reaches it.
      expect(received(writer).revs).toEqual([2])
      await a.cubby.store('carol', 'x', 1)
      await a.cubby.store('alice', 'k', 3)
      await reader.next('changes', (m) => m.rev === 3)
      expect(bystander.frames.filter((m) => m.type === 'changes')).toEqual([])
    })
  })

  it('converges although the bus loses every other message', async () => {
    await twoNodes(async ({ a, b, network }) => {
      await using reader = await connectUser(b, 'alice')
      network.loseEveryOther()
      let head = 0
      for (let i = 0; i < 20; i++) head = await a.cubby.store('alice', `k${i % 7}`, i)
      await reader.next('changes', (m) => m.rev === head)
      expect(network.lost).toBe(10)
      expect(received(reader).revs).toEqual(Array.from({ length: head }, (_, i) => i + 1))
    })
  })

  it('catches up from storage when the bus reconnects, though the last message was lost', async () => {
    await twoNodes(async ({ a, b, busB, network }) => {
      await using reader = await connectUser(b, 'alice')
      network.loseEveryOther()
      const head = await a.cubby.store('alice', 'k', 1)
      expect(network.lost).toBe(1)
      busB.reconnect()
      await reader.next('changes', (m) => m.rev === head)
      expect(received(reader).revs).toEqual([1])
    })
  })

  it('cuts a user deleted through one node off the other, and refuses its old tokens there', async () => {
    await twoNodes(async ({ a, b }) => {
      await a.cubby.store('alice', 'k', 1)
      const token = b.token('alice')
      await using session = await connectUser(b, 'alice')
      expect(await a.cubby.deleteUser('alice')).toBe(true)
      await session.next('user-deleted')
      expect(await session.closed).toBe(4010)
      // Node B had seen alice's marker (none) before; the deletion through A must reach its cache too.
      await using again = await openRawSocket(b.url)
      again.send({ type: 'hello', v: 1, token, cursor: 0 })
      expect((await again.next('error')).code).toBe('UNAUTHORIZED')
    })
  })
})

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerMessage } from '@cubby/protocol'
import { Level } from 'level'
import { describe, expect, it, vi } from 'vitest'
import { createLevelStorage } from '../storage/createLevelStorage.js'
import type { CubbyStorage } from '../storage/CubbyStorage.js'
import { SyncSession } from './SyncSession.js'

async function withSession(test: (s: { storage: CubbyStorage; session: SyncSession; sent: ServerMessage[] }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-session-'))
  const db = new Level(join(dir, 'db'))
  const storage = createLevelStorage({ db })
  const sent: ServerMessage[] = []
  const session = new SyncSession({
    userId: 'u', cursor: 0, storage, maxBacklogBytes: 1 << 20, pullBatchSize: 2, maxFrameBytes: 1 << 20,
    channel: { send: (m) => void sent.push(m), backlog: () => 0, drained: async () => {}, failed: (e) => { throw e }, end: () => {} },
  })
  try {
    await test({ storage, session, sent })
  } finally {
    session.close()
    await storage.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const store = (mid: number, key: string): { op: 'store'; mid: number; key: string; value: string } => ({ op: 'store', mid, key, value: '1' })

describe('SyncSession', () => {
  it('reads the missing changes from storage when a published commit leaves a gap', async () => {
    await withSession(async ({ storage, session, sent }) => {
      session.start(0)
      await vi.waitFor(() => expect(sent).toEqual([{ type: 'synced', rev: 0 }]))
      await storage.commit('u', [store(1, 'a')])
      const second = await storage.commit('u', [store(1, 'b'), store(2, 'c')])
      session.deliver(second.changes)
      await vi.waitFor(() => expect(session.rev).toBe(3))
      expect(sent.slice(1)).toEqual([
        { type: 'changes', changes: [{ rev: 1, key: 'a', value: '1' }, { rev: 2, key: 'b', value: '1' }], rev: 2 },
        { type: 'changes', changes: [{ rev: 3, key: 'c', value: '1' }], rev: 3 },
      ])
    })
  })

  it('ignores changes it already sent and takes the rest from memory', async () => {
    await withSession(async ({ storage, session, sent }) => {
      session.start(0)
      await vi.waitFor(() => expect(sent).toHaveLength(1))
      const { changes } = await storage.commit('u', [store(1, 'a'), store(2, 'b')])
      session.deliver(changes)
      session.deliver(changes)
      session.deliver(changes.slice(1))
      expect(sent.slice(1)).toEqual([{ type: 'changes', changes, rev: 2 }])
    })
  })

  it('holds an ack back until the changes before it are sent, even during the catch-up', async () => {
    await withSession(async ({ storage, session, sent }) => {
      const { changes, results } = await storage.commit('u', [store(1, 'a')])
      session.deliver(changes)
      session.ack({ type: 'ack', clientId: 'c', results }, 1)
      session.start(0)
      await vi.waitFor(() => expect(sent.map((m) => m.type)).toEqual(['changes', 'ack', 'synced']))
    })
  })
})

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { describe, expect, it, vi } from 'vitest'
import { createLevelStorage } from './createLevelStorage.js'
import type { LevelDatabase } from './LevelDatabase.js'

/** A database whose batches wait until `release()`, recording the options each batch was written with. */
function holdingBatches(db: Level): LevelDatabase & { writes: Array<{ sync: boolean }>; release(): void } {
  let open: () => void = () => {}
  let gate = new Promise<void>((resolve) => (open = resolve))
  const writes: Array<{ sync: boolean }> = []
  const held = async (write: () => Promise<void>, options: { sync: boolean }): Promise<void> => {
    writes.push({ sync: options.sync })
    await gate
    await write()
  }
  return {
    writes,
    release() {
      open()
      gate = new Promise<void>((resolve) => (open = resolve))
    },
    get status() { return db.status },
    open: () => db.open(),
    close: () => db.close(),
    getMany: (keys, options) => db.getMany(keys, options),
    iterator: (options) => db.iterator(options),
    batch: (operations, options) => held(() => db.batch(operations, options), options),
  }
}

describe('the group commit writes synced and answers after', () => {
  it('resolves a commit only once its batch, written with sync: true, is done (warm user, no read before the batch)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cubby-synced-'))
    const level = new Level(join(dir, 'db'))
    const db = holdingBatches(level)
    const storage = createLevelStorage({ db })
    try {
      await storage.open()
      // The first commit reads the user; the second and third (a larger one) are planned from the cache, in the same
      // step as they are taken.
      const pushes = [[1], [2], Array.from({ length: 50 }, (_, i) => 3 + i)]
      for (const [n, mids] of pushes.entries()) {
        let settled = false
        const mutations = mids.map((mid) => ({ op: 'store' as const, mid, key: `k${mid % 2}-${mid}`, value: `"${mid}"` }))
        const commit = storage.commit('ana', mutations, 'c1').finally(() => (settled = true))
        await vi.waitFor(() => expect(db.writes).toHaveLength(n + 1))
        // However long the batch takes, the commit (and so the ack and the forward) waits for it.
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
        expect(settled).toBe(false)
        db.release()
        expect((await commit).results).toEqual(mids.map((mid) => ({ mid, rev: mid })))
      }
      expect(db.writes).toEqual([{ sync: true }, { sync: true }, { sync: true }])
    } finally {
      db.release()
      await storage.close()
      await level.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

/** A database whose batches go through until `hold()`, and then wait for `release()`; records each synced batch from then on. */
function gatedBatches(db: Level): LevelDatabase & { writes: number; hold(): void; release(): void } {
  let gate: Promise<void> | undefined
  let open: () => void = () => {}
  const gated = {
    writes: 0,
    hold() {
      gate = new Promise<void>((resolve) => (open = resolve))
    },
    release() {
      open()
      gated.hold()
    },
    get status() { return db.status },
    open: () => db.open(),
    close: () => db.close(),
    getMany: (keys, options) => db.getMany(keys, options),
    iterator: (options) => db.iterator(options),
    batch: async (operations, options) => {
      if (gate === undefined) return db.batch(operations, options)
      if (options.sync) gated.writes++
      await gate
      await db.batch(operations, options)
    },
  } satisfies LevelDatabase & { writes: number; hold(): void; release(): void }
  return gated
}

describe('an idle group commit starts at once', () => {
  async function withHeldStorage(run: (db: ReturnType<typeof gatedBatches>, storage: ReturnType<typeof createLevelStorage>) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'cubby-idle-'))
    const level = new Level(join(dir, 'db'))
    const db = gatedBatches(level)
    const storage = createLevelStorage({ db })
    try {
      await storage.open()
      // Warms the user: after a clear (and its purge), the cache holds all the write path needs (meta, client, an
      // empty key index), so later commits are planned with no read before their batch.
      await storage.commit('ana', [{ op: 'clear', mid: 1 }], 'c1')
      await storage.purge()
      // The loop notices it has nothing left a few microtasks after it answered: a frame comes in a later task.
      await new Promise((resolve) => setImmediate(resolve))
      db.hold()
      await run(db, storage)
    } finally {
      // Lets every batch through, also one issued after a failed expectation.
      const closing = storage.close()
      const releasing = setInterval(() => db.release(), 5)
      await closing.finally(() => clearInterval(releasing))
      await level.close()
      await rm(dir, { recursive: true, force: true })
    }
  }

  it('issues the synced batch of a commit that finds the committer idle in the same step, and answers after it', async () => {
    await withHeldStorage(async (db, storage) => {
      let settled = false
      const commit = storage.commit('ana', [{ op: 'store', mid: 2, key: 'a', value: '2' }], 'c1').finally(() => (settled = true))
      // No hop between the commit and its batch: the fsync starts before anything else runs.
      expect(db.writes).toBe(1)
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
      expect(settled).toBe(false)
      db.release()
      expect((await commit).results).toEqual([{ mid: 2, rev: 2 }])
    })
  })

  it('puts the commits that come while a batch is written into the next batch, in order, each answered after its own batch', async () => {
    await withHeldStorage(async (db, storage) => {
      const settled: string[] = []
      const commit = (mid: number, key: string): Promise<unknown> =>
        storage.commit('ana', [{ op: 'store', mid, key, value: String(mid) }], 'c1').then((r) => (settled.push(key), r))
      const a = commit(2, 'a')
      const b = commit(3, 'b')
      const c = commit(4, 'c')
      expect(db.writes).toBe(1)
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
      // b and c wait for a's batch to be durable before theirs is even issued.
      expect(db.writes).toBe(1)
      expect(settled).toEqual([])
      db.release()
      await vi.waitFor(() => expect(db.writes).toBe(2))
      expect(settled).toEqual(['a'])
      db.release()
      expect(await Promise.all([a, b, c])).toEqual([
        { results: [{ mid: 2, rev: 2 }], changes: [{ rev: 2, key: 'a', value: '2' }], head: 2 },
        { results: [{ mid: 3, rev: 3 }], changes: [{ rev: 3, key: 'b', value: '3' }], head: 3 },
        { results: [{ mid: 4, rev: 4 }], changes: [{ rev: 4, key: 'c', value: '4' }], head: 4 },
      ])
      expect(settled).toEqual(['a', 'b', 'c'])
      expect(await storage.get('ana', 'c')).toEqual({ key: 'c', rev: 4, value: '4' })
    })
  })
})

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

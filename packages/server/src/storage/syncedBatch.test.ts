import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { describe, expect, it, vi } from 'vitest'
import { createLevelStorage } from './createLevelStorage.js'
import type { LevelBatchOperation, LevelChainedBatch, LevelDatabase, UTF8 } from './LevelDatabase.js'

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
    batch: ((operations?: LevelBatchOperation[], options?: typeof UTF8 & { sync: boolean }) => {
      if (operations !== undefined && options !== undefined) return held(() => db.batch(operations, options), options)
      const chained = db.batch()
      const batch: LevelChainedBatch = {
        put: (key, value, o) => chained.put(key, value, o),
        del: (key, o) => chained.del(key, o),
        write: (o) => held(() => chained.write(o), o),
        close: () => chained.close(),
      }
      return batch
    }) as LevelDatabase['batch'],
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
      // The first commit reads the user; the second is planned from the cache, in the same step as it is taken.
      for (const [mid, value] of [[1, '"a"'], [2, '"b"']] as const) {
        let settled = false
        const commit = storage.commit('ana', [{ op: 'store', mid, key: 'k', value }], 'c1').finally(() => (settled = true))
        await vi.waitFor(() => expect(db.writes).toHaveLength(mid))
        // However long the batch takes, the commit (and so the ack and the forward) waits for it.
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
        expect(settled).toBe(false)
        db.release()
        expect((await commit).results).toEqual([{ mid, rev: mid }])
      }
      expect(db.writes).toEqual([{ sync: true }, { sync: true }])
    } finally {
      db.release()
      await storage.close()
      await level.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

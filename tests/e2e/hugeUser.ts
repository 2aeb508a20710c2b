import { join } from 'node:path'
import type { Mutation } from '@cubby/protocol'
import { createLevelStorage, type CubbyStorage } from '@cubby/server'
import { Level } from 'level'

/** Keys per commit while filling: one group commit each. */
const FILL_BATCH = 5000

/**
 * Writes `count` keys (`k000000`, …, value `1`) of `userId` straight into `<dataDir>/db`, with the real storage
 * and no quota in the way, so a test gets a huge user in seconds instead of through the network. No server may
 * hold the data dir.
 */
export async function writeHugeUser(dataDir: string, userId: string, count: number): Promise<void> {
  await withStorage(dataDir, async (storage) => {
    for (let i = 0; i < count; i += FILL_BATCH) {
      const mutations = Array.from({ length: Math.min(FILL_BATCH, count - i) }, (_, j): Mutation =>
        ({ op: 'store', mid: j + 1, key: `k${String(i + j).padStart(6, '0')}`, value: '1' }))
      await storage.commit(userId, mutations)
    }
  }, count)
}

/** Opens the data dir's database with the real storage (no server may hold it), runs `run`, closes it. */
export async function withStorage<T>(dataDir: string, run: (storage: CubbyStorage, db: Level<string, string>) => Promise<T>, maxKeys = 100_000): Promise<T> {
  const db = new Level<string, string>(join(dataDir, 'db'))
  const storage = createLevelStorage({ db, quota: { maxKeys }, maxIndexedKeys: maxKeys + 1 })
  await storage.open()
  try {
    return await run(storage, db)
  } finally {
    await storage.close()
    await db.close()
  }
}

/** How many `d` records (live or dead) of `userId` the database holds. */
export async function recordCount(db: Level<string, string>, userId: string): Promise<number> {
  let n = 0
  for await (const _ of db.keys({ gte: `d${userId.length}:${userId}\x00`, lt: `d${userId.length}:${userId}\x01` })) n++
  return n
}

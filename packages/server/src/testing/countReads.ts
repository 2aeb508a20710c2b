import type { Level } from 'level'
import type { LevelDatabase } from '../storage/LevelDatabase.js'

/** A database that counts the reads made through `getMany` (every read the write path makes). */
export function countReads(db: Level): LevelDatabase & { reads: number } {
  const counting = {
    reads: 0,
    get status() { return db.status },
    open: () => db.open(),
    close: () => db.close(),
    getMany: (keys: string[], options: Parameters<LevelDatabase['getMany']>[1]) => {
      counting.reads++
      return db.getMany(keys, options)
    },
    batch: (operations: Parameters<LevelDatabase['batch']>[0], options: Parameters<LevelDatabase['batch']>[1]) => db.batch(operations, options),
    iterator: (options: Parameters<LevelDatabase['iterator']>[0]) => db.iterator(options),
  }
  return counting
}

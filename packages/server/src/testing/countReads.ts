import type { Level } from 'level'
import type { LevelBatchOperation, LevelDatabase, UTF8 } from '../storage/LevelDatabase.js'

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
    batch: ((operations?: LevelBatchOperation[], options?: typeof UTF8 & { sync: boolean }) =>
      operations === undefined || options === undefined ? db.batch() : db.batch(operations, options)) as LevelDatabase['batch'],
    iterator: (options: Parameters<LevelDatabase['iterator']>[0]) => db.iterator(options),
  }
  return counting
}

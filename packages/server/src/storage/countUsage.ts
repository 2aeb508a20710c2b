import { readRange, type LevelDatabase } from './LevelDatabase.js'
import { dataKeyOffset, parseRecord, userRange } from './levelKeys.js'
import { recordBytes, type UserUsage } from './UserQuota.js'

/**
 * Counts a user's live keys and bytes from their records (for metas written before usage was kept in them),
 * leaving out the dead ones (at or below `clearRev`).
 * @internal
 */
export async function countUsage(db: LevelDatabase, userId: string, clearRev: number): Promise<UserUsage> {
  const usage: UserUsage = { keys: 0, bytes: 0 }
  const offset = dataKeyOffset(userId)
  await readRange(db, userRange('d', userId), (page) => {
    for (const [k, raw] of page) {
      const { rev, value } = parseRecord(raw)
      if (rev <= clearRev) continue
      usage.bytes += recordBytes(k.slice(offset), value)
      if (value !== undefined) usage.keys++
    }
  })
  return usage
}

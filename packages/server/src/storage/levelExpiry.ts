import type { ExpiredChanges } from './CubbyStorage.js'
import type { GroupCommitter } from './GroupCommitter.js'
import { readRange, UTF8, type LevelDatabase } from './LevelDatabase.js'
import { EXPIRY_RANGE, expiryBound, parseExpiryKey } from './levelKeys.js'

/**
 * Sweeps the LevelDB expiry index: reads at most `limit` entries due at `now` (the index is ordered by time, so
 * nothing else is read) and commits, per user, deletes that apply only to values still expired then. Stale
 * entries (the key was written, deleted or cleared since) are removed with them.
 * @internal
 */
export async function sweepLevelExpired(db: LevelDatabase, committer: GroupCommitter, now: number, limit: number): Promise<ExpiredChanges[]> {
  const due = new Map<string, { keys: string[]; expiryKeys: string[] }>()
  await readRange(db, { ...EXPIRY_RANGE, lt: expiryBound(now), limit, values: false }, (page) => {
    for (const [k] of page) {
      const { userId, key } = parseExpiryKey(k)
      let user = due.get(userId)
      if (user === undefined) due.set(userId, (user = { keys: [], expiryKeys: [] }))
      user.keys.push(key)
      user.expiryKeys.push(k)
    }
  })
  // Queued together, so that one group commit writes them all.
  const commits = [...due].map(async ([userId, { keys, expiryKeys }]) => {
    const mutations = keys.map((key, i) => ({ op: 'delete' as const, mid: i + 1, key }))
    const { changes } = await committer.commit(userId, mutations, undefined, undefined, undefined, { now, expiryKeys })
    return { userId, changes }
  })
  return (await Promise.all(commits)).filter((c) => c.changes.length > 0)
}

/** The earliest time in the LevelDB expiry index, or `undefined` when it is empty. @internal */
export async function nextLevelExpiry(db: LevelDatabase): Promise<number | undefined> {
  const it = db.iterator({ ...EXPIRY_RANGE, limit: 1, values: false, ...UTF8 })
  try {
    const [first] = await it.nextv(1)
    return first === undefined ? undefined : parseExpiryKey(first[0]).expiresAt
  } finally {
    await it.close()
  }
}

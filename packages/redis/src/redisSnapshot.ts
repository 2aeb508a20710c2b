import { randomUUID } from 'node:crypto'
import { isExpired, type Change } from '@cubby/protocol'
import { CATCH_UP_PAGE_BYTES, type StorageSnapshot } from '@cubby/server'
import { snapshotKeys, userKeys } from './redisKeys.js'
import { SCAN_STEP } from './redisScripts.js'
import type { CubbyScripts } from './redisScripts.js'

/**
 * How long an idle snapshot lives in Redis; each page renews it, `close()` removes it at once. It bounds what a
 * reader that never closes can hold (the records changed while it is open).
 */
export const SNAPSHOT_TTL_MS: number = 10 * 60 * 1000

/** A {@link StorageSnapshot} that also says whether the user had data. @internal */
export interface RedisSnapshot extends StorageSnapshot {
  readonly exists: boolean
}

/**
 * Opens a copy-on-write snapshot of a user in O(1): the head and clear rev now, and from then on each commit saves a
 * key's record before its first change, in the snapshot's own keys (same slot), until the snapshot is closed or
 * expires. Pages read the live key index and prefer the saved records.
 * @internal
 */
export async function openSnapshot(scripts: CubbyScripts, prefix: string, userId: string): Promise<RedisSnapshot> {
  const k = userKeys(prefix, userId)
  const id = randomUUID()
  const s = snapshotKeys(prefix, userId, id)
  const [exists, head, clearRev] = await scripts.cubbySnapshot(k.meta, s.marker, k.snapshots, k.deleted, SNAPSHOT_TTL_MS, id) as number[]
  let after = ''
  let done = exists !== 1
  return {
    exists: exists === 1,
    head: Number(head),
    clearRev: Number(clearRev),
    async next(limit) {
      if (done || limit <= 0) return []
      const page: Change[] = []
      let bytes = 0
      // Each script scans at most SCAN_STEP keys, so keys made since the snapshot (skipped) block nobody; the page
      // ends once its values reach CATCH_UP_PAGE_BYTES.
      while (page.length < limit && bytes < CATCH_UP_PAGE_BYTES) {
        const [next, ...reply] = await scripts.cubbySnapshotNext(
          s.marker, s.saved, s.frozenData, s.frozenKeys, k.data, k.keys, k.snapshots,
          after, limit - page.length, SNAPSHOT_TTL_MS, id, SCAN_STEP, CATCH_UP_PAGE_BYTES - bytes,
        ) as Array<string | number | null>
        const now = Date.now()
        for (let i = 0; i < reply.length; i += 4) {
          const [key, rev, value, expiresAt] = [String(reply[i]), Number(reply[i + 1]), reply[i + 2], reply[i + 3]]
          // A value expired by now reads as deleted (its sweep follows with a newer tombstone).
          const at = expiresAt === null || expiresAt === undefined ? undefined : Number(expiresAt)
          if (value === null || value === undefined || isExpired(at, now)) page.push({ rev, key, deleted: true })
          else page.push(at === undefined ? { rev, key, value: String(value) } : { rev, key, value: String(value), expiresAt: at })
          if (value !== null && value !== undefined) bytes += String(value).length
        }
        if (next === '' || next === null) {
          done = true
          break
        }
        after = String(next)
      }
      return page
    },
    async close() {
      done = true
      if (exists !== 1) return
      // UNLINK: a frozen copy can hold all of a large user's records; Redis frees them in the background.
      await scripts.cubbySnapshotClose(s.marker, s.saved, k.snapshots, id)
    },
  }
}

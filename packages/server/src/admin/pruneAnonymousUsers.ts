import { isAnonymousUser } from '../auth/anonymousUsers.js'
import type { CubbyStorage } from '../storage/CubbyStorage.js'

/** What pruning needs: the user list and the user deletion (a storage offline, the server's admin while it runs). */
export type PruneTarget = Pick<CubbyStorage, 'usersUnusedSince' | 'deleteUser'>

/** Options of {@link pruneAnonymousUsers}. */
export interface PruneOptions {
  /** Delete anonymous identities whose last write is at least this many days ago (fractions allowed). */
  unusedDays: number
  /** The current time in milliseconds. @default Date.now() */
  now?: number
}

/** Users listed per page. */
const PAGE = 1000

/**
 * Deletes the anonymous identities (user id `anon_…`) that have not written for `unusedDays`, one at a time
 * through `deleteUser` (which revokes their tokens). Users without a recorded last write are kept.
 *
 * @returns how many users were deleted.
 * @throws TypeError unless `unusedDays` is a positive number.
 * @example
 * ```ts
 * const pruned = await pruneAnonymousUsers(storage, { unusedDays: 90 })
 * ```
 */
export async function pruneAnonymousUsers(target: PruneTarget, { unusedDays, now = Date.now() }: PruneOptions): Promise<number> {
  checkUnusedDays('unusedDays', unusedDays)
  const before = Math.floor((now - unusedDays * 86_400_000) / 1000)
  let pruned = 0
  let after: string | undefined
  for (;;) {
    const page = await target.usersUnusedSince({ before, ...(after === undefined ? {} : { after }), limit: PAGE })
    for (const userId of page) if (isAnonymousUser(userId) && (await target.deleteUser(userId))) pruned++
    if (page.length < PAGE) return pruned
    after = page.at(-1)!
  }
}

/** @throws TypeError unless `days` is a positive finite number. @internal */
export function checkUnusedDays(name: string, days: number | undefined): void {
  if (days !== undefined && !(Number.isFinite(days) && days > 0)) throw new TypeError(`${name} must be a positive number of days`)
}

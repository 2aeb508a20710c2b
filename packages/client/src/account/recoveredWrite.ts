import type { MergeAnswer, MergePreference } from '@cubby/protocol'
import type { CacheSnapshot, CacheWrite } from '../cache/CubbyCache.js'
import { carryOver } from './carryOver.js'

/**
 * What the server said when an interrupted sign-in asked it to merge again: its answer, or `gone` when it refused
 * the anonymous proof (the user was deleted: merged already).
 */
export type MergeAgain = MergeAnswer | 'gone'

/** Whether the merge found nothing of the anonymous user on the server: it was merged (and emptied) before. */
const mergedNothing = (answer: MergeAnswer): boolean => answer.written === 0 && answer.clients === 0 && answer.conflicts.length === 0

/**
 * The cache write that finishes an interrupted sign-in in the account's cache, from what the anonymous database
 * holds (nothing in memory survived the interruption). When this merge moved the anonymous user's data, as
 * {@link carryOver}: the values it kept and every pending write. When the server had merged before (it refused the
 * proof, or found nothing to move), only the pending writes, under their own client ids and mids (the earlier
 * merge moved their exactly-once records, so a write it had applied is acknowledged, not applied again): which
 * values that merge kept, and at which revisions, only the account's catch-up tells.
 *
 * @internal
 */
export function recoveredWrite(anonymous: CacheSnapshot, merged: MergeAgain, rule: { prefer: MergePreference; now: number }): CacheWrite {
  if (merged === 'gone' || mergedNothing(merged)) return { outboxPut: anonymous.outbox }
  return carryOver(anonymous, { all: [], unacknowledged: [] }, { answer: merged, ...rule })
}

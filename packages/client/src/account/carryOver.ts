import { type MergeAnswer, type MergePreference, compareKeys, isExpired } from '@cubby/protocol'
import type { CacheSnapshot, CacheWrite, CachedEntry, OutboxEntry } from '../cache/CubbyCache.js'

/** What the anonymous replica knows of its outbox in memory: every durable write, and those not acknowledged. */
export interface OutboxInMemory {
  all: readonly OutboxEntry[]
  unacknowledged: readonly OutboxEntry[]
}

const refKey = (e: OutboxEntry): string => `${e.mutation.mid}:${e.clientId}`

/**
 * The anonymous user's outbox to carry into the account: every write the server has not acknowledged (the stored
 * outbox, with what memory holds and the cache may not), under its own client id and mid, so that a write the
 * server applied before the merge (whose ack was lost) is acknowledged and not applied again, and one it never
 * saw is applied once. Writes known to be acknowledged are on the server already, and merged.
 */
function carriedOutbox(stored: readonly OutboxEntry[], memory: OutboxInMemory): OutboxEntry[] {
  const acknowledged = new Set(memory.all.map(refKey))
  for (const e of memory.unacknowledged) acknowledged.delete(refKey(e))
  const carried = new Map<string, OutboxEntry>()
  for (const e of [...stored, ...memory.unacknowledged]) if (!acknowledged.has(refKey(e))) carried.set(refKey(e), e)
  return [...carried.values()]
}

/**
 * The anonymous values the merge wrote into the account, as confirmed records at their new revisions: the server
 * wrote them in key order, one revision each, up to `head`. When the device's count differs from the server's
 * (it had not caught up with everything before the merge), their revisions are unknown: they get revision 0, and
 * the catch-up after connecting brings the server's.
 */
function carriedEntries(entries: readonly CachedEntry[], answer: MergeAnswer, prefer: MergePreference, now: number): CachedEntry[] {
  const conflicts = new Set(answer.conflicts)
  const written = entries
    .filter((e) => !isExpired(e.expiresAt, now) && !(prefer === 'account' && conflicts.has(e.key)))
    .sort((a, b) => compareKeys(a.key, b.key))
  const first = written.length === answer.written ? answer.head - answer.written + 1 : undefined
  return written.map((e, i) => ({ ...e, rev: first === undefined ? 0 : first + i }))
}

/**
 * The cache write that moves the anonymous user's state on this device into the account's cache after the server
 * merged: its values (those the merge kept) and its pending writes.
 *
 * @internal
 */
export function carryOver(anonymous: CacheSnapshot, memory: OutboxInMemory, merge: { answer: MergeAnswer; prefer: MergePreference; now: number }): CacheWrite {
  return {
    putEntries: carriedEntries(anonymous.entries, merge.answer, merge.prefer, merge.now),
    outboxPut: carriedOutbox(anonymous.outbox, memory),
  }
}

import type { Mutation } from '@cubby/protocol'
import { CubbyError } from '@cubby/protocol/core'
import { type CacheSnapshot, type CacheWrite, type CachedEntry, type CubbyCacheProvider, type CubbyIdentity, type OutboxEntry, compareOutbox, confirmedPartApplies, identityRecord } from './CubbyCache.js'

interface UserData {
  entries: Map<string, CachedEntry>
  /** By client id, then mid (no id string to build per write). */
  outbox: Map<string, Map<number, OutboxEntry>>
  cursor: number
  marker?: string
  clockOffset?: number
}

/** A field of a record as it is: records hold only strings, numbers and booleans (what IndexedDB would clone). */
function plain<T>(v: T): T {
  if (v == null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  throw new TypeError(`A cache record cannot hold a ${typeof v}`)
}

/** A copy of a confirmed record, with `expiresAt` only when there is one. */
const copyEntry = ({ key, rev, value, expiresAt }: CachedEntry): CachedEntry =>
  expiresAt === undefined ? { key: plain(key), rev: plain(rev), value: plain(value) } : { key: plain(key), rev: plain(rev), value: plain(value), expiresAt: plain(expiresAt) }

/** A copy of a mutation: the replica sets an `if` in place later (see `OutboxEntry.after`). */
function copyMutation(m: Mutation): Mutation {
  if (m.op === 'clear') return { op: m.op, mid: plain(m.mid) }
  const condition = m.if === undefined ? undefined : 'rev' in m.if ? { rev: plain(m.if.rev) } : { absent: plain(m.if.absent) }
  const out: Mutation = m.op === 'store'
    ? { op: m.op, mid: plain(m.mid), key: plain(m.key), value: plain(m.value) }
    : { op: plain(m.op), mid: plain(m.mid), key: plain(m.key) }
  if (m.op === 'store' && m.expiresAt !== undefined && out.op === 'store') out.expiresAt = plain(m.expiresAt)
  if (condition !== undefined) out.if = condition
  return out
}

/** A copy of an outbox entry, with `after` and `batch` only when there are. */
function copyOutboxEntry({ seq, clientId, mutation, after, batch }: OutboxEntry): OutboxEntry {
  const out: OutboxEntry = { seq: plain(seq), clientId: plain(clientId), mutation: copyMutation(mutation) }
  if (after !== undefined) out.after = plain(after)
  if (batch !== undefined) out.batch = batch.last === true ? { id: plain(batch.id), last: true } : { id: plain(batch.id) }
  return out
}

/**
 * Copies the records a write stores, before any of it is applied: what makes a write atomic here, as a
 * transaction does in IndexedDB, and what keeps the caller's later changes to its objects out of the cache.
 * Only the records are copied (refs and keys are strings and numbers), each by its known shape: a generic deep
 * copy of the whole write (and structuredClone before it) was the memory cache's whole cost in the fan-out
 * benchmark's profile. A write whose records the caller hands over (`ownsRecords`, see `CubbyCache.writeSync`) is
 * applied as it is: the client makes its confirmed records and outbox entries from strings and numbers, for the
 * cache to keep.
 */
function copy(batch: CacheWrite): CacheWrite {
  const out = { ...batch }
  if (batch.putEntries !== undefined) out.putEntries = batch.putEntries.map(copyEntry)
  if (batch.outboxPut !== undefined) out.outboxPut = batch.outboxPut.map(copyOutboxEntry)
  return out
}

function apply(data: UserData, batch: CacheWrite): void {
  // Each part only when there is one, by index: a store's write is `{ outboxPut }` alone, and empty arrays and
  // iterators per part were most of what applying it cost.
  const { deleteEntries, putEntries, outboxPut, outboxDelete } = batch
  if (confirmedPartApplies(batch, data.cursor)) {
    if (batch.clearEntries) data.entries.clear()
    if (deleteEntries !== undefined) for (let i = 0; i < deleteEntries.length; i++) data.entries.delete(deleteEntries[i]!)
    if (putEntries !== undefined) for (let i = 0; i < putEntries.length; i++) data.entries.set(putEntries[i]!.key, putEntries[i]!)
    if (batch.cursor !== undefined) data.cursor = batch.cursor
  }
  if (batch.clockOffset !== undefined) data.clockOffset = batch.clockOffset
  if (outboxPut !== undefined) {
    for (let i = 0; i < outboxPut.length; i++) {
      const entry = outboxPut[i]!
      const mids = data.outbox.get(entry.clientId)
      if (mids) mids.set(entry.mutation.mid, entry)
      else data.outbox.set(entry.clientId, new Map([[entry.mutation.mid, entry]]))
    }
  }
  if (outboxDelete !== undefined) {
    for (let i = 0; i < outboxDelete.length; i++) {
      const ref = outboxDelete[i]!
      const mids = data.outbox.get(ref.clientId)
      if (mids?.delete(ref.mid) && mids.size === 0) data.outbox.delete(ref.clientId)
    }
  }
  if (data.marker === undefined && batch.marker !== undefined) data.marker = batch.marker
}

/**
 * Creates a cache that keeps everything in memory: for SSR, tests, and as the fallback when IndexedDB is
 * missing or cannot be opened (private browsing). Data survives reopening on the same provider, not a reload.
 *
 * @returns A provider whose caches are not persistent.
 * @example
 * ```ts
 * const cubby = createCubby({ url: 'https://cubby.example.com', cache: createMemoryCache() })
 * ```
 */
export function createMemoryCache(): CubbyCacheProvider {
  const users = new Map<string, UserData>()
  let identity: CubbyIdentity | undefined
  return {
    kind: 'memory',
    async open(userId) {
      let data = users.get(userId)
      if (!data) users.set(userId, (data = { entries: new Map(), outbox: new Map(), cursor: 0 }))
      const user = data
      let closed = false
      const writeSync = (batch: CacheWrite, ownsRecords = false): void => {
        if (closed) throw new CubbyError('CLOSED')
        if (batch.expectMarker !== undefined && user.marker !== batch.expectMarker) throw new CubbyError('CACHE_EVICTED')
        apply(user, ownsRecords ? batch : copy(batch))
      }
      return {
        persistent: false,
        async load() {
          if (closed) throw new CubbyError('CLOSED')
          const { entries, outbox, cursor, marker, clockOffset } = structuredClone(user)
          const snapshot: CacheSnapshot = { entries: [...entries.values()], outbox: [...outbox.values()].flatMap((mids) => [...mids.values()]).sort(compareOutbox), cursor }
          if (marker !== undefined) snapshot.marker = marker
          if (clockOffset !== undefined) snapshot.clockOffset = clockOffset
          return snapshot
        },
        write: async (batch) => writeSync(batch),
        writeSync,
        async destroy() {
          closed = true
          users.delete(userId)
        },
        async close() {
          closed = true
        },
      }
    },
    loadIdentity: async () => (identity ? identityRecord(identity) : undefined),
    saveIdentity: async (next) => {
      identity = next ? identityRecord(next) : undefined
    },
  }
}

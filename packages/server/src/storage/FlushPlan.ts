import { utf8Length, type Change, type Mutation, type MutationResult, type WireError } from '@cubby/protocol'
import type { CommitResult } from './CubbyStorage.js'
import { UTF8, type LevelBatchOperation, type LevelDatabase } from './LevelDatabase.js'
import {
  clientKey, dataKey, deletionKey, expiryKey, formatMeta, formatRecord, logKey, metaKey, parseClient, nowInSeconds, parseDeletion, parseMeta,
  parseRecord, purgeKey, userRange, type LevelDeletion, type LevelMeta,
} from './levelKeys.js'
import { countUsage } from './countUsage.js'
import type { StorageBudget } from './StorageBudget.js'
import { recordBytesOf, type UserQuota } from './UserQuota.js'
import { checkCondition, conflictError, rememberConflict } from './writeConditions.js'

/** A user's meta: the latest rev, the rev of the last clear, and the usage counted against the quota. @internal */
export type UserMeta = LevelMeta

/** A client's exactly-once record: its last applied mid and the rev that mid got. @internal */
export interface ClientRecord {
  mid: number
  rev: number
  /** Mids at or below `mid` that were rejected with `CONFLICT` (the newest few, see `MAX_REMEMBERED_CONFLICTS`). */
  conflicts?: number[] | undefined
}

/** What the write path needs of a key's record: its rev and the UTF-8 length of its value (`undefined`: a tombstone). @internal */
export interface IndexedRecord {
  rev: number
  valueBytes: number | undefined
  /** When the value expires (ms since the epoch), so that its expiry index entry can be removed without a read. */
  expiresAt?: number | undefined
}

/** What the write path knows of a user without reading: each part `undefined` when it is not cached. @internal */
export interface CachedUser {
  readonly meta: UserMeta | undefined
  /** Exactly-once records by client id; `null` for a client that has none. */
  readonly clients: ReadonlyMap<string, ClientRecord | null>
  /** Every record of the user (live and tombstones, none at or below the last clear) by key. */
  readonly index: ReadonlyMap<string, IndexedRecord> | undefined
  /** The user's deletion marker; `null` when there is none. */
  readonly deletion: LevelDeletion | null | undefined
}

/** What a flush does to one user, for the caches once its batch is durable. @internal */
export interface UserOutcome {
  meta: UserMeta
  deletion: LevelDeletion | null
  /** The exactly-once record of every client the flush looked at. */
  clients: Map<string, ClientRecord | null>
  /** The flush cleared the user: no record older than the clear is left. */
  cleared: boolean
  /** Records the flush wrote (after its last clear): `null` for one it removed. */
  records: Map<string, IndexedRecord | null>
}

/** What applying one request's mutations did. */
interface Applied {
  results: MutationResult[]
  changes: Change[]
  /** The client's exactly-once record after them. */
  client: ClientRecord | undefined
}

/** The parts of a plan an atomic request may change, to put back when it fails. */
interface SavedPlan {
  writes: Map<string, string | null>
  meta: UserMeta
  records: Map<string, IndexedRecord | null>
  cleared: boolean
  purges: Set<string>
  bytesDelta: number
}

/** A client's record after a conflicted `mid`: the mid counts as applied, the rev stays (the head for a new client). */
const withConflict = (client: ClientRecord | undefined, mid: number, head: number): ClientRecord =>
  ({ mid, rev: client?.rev ?? head, conflicts: rememberConflict(client?.conflicts, mid) })

/** Formats a `c` record: `${mid}\n${rev}`, then the conflicted mids (comma-separated) when there are any. */
const formatClient = ({ mid, rev, conflicts }: ClientRecord): string =>
  conflicts === undefined || conflicts.length === 0 ? `${mid}\n${rev}` : `${mid}\n${rev}\n${conflicts.join(',')}`

/** One queued call of `commit`. @internal */
export interface CommitRequest {
  userId: string
  mutations: Mutation[]
  clientId: string | undefined
  /**
   * When the writer was authorised (milliseconds since the epoch): refused whole (`UNAUTHORIZED`) if the user was
   * deleted at or after it, so that no write accepted before a deletion commits after it.
   */
  authorizedAt?: number | undefined
  /**
   * An expiry sweep at this moment (ms since the epoch): each mutation is a delete that applies only if the key's
   * value has expired by then (a later store or delete made it moot); `expiryKeys` are the index entries it read,
   * removed in the same batch.
   */
  expire?: { now: number; expiryKeys: readonly string[] } | undefined
  /** All of the mutations or none (see `CommitOptions.atomic`). */
  atomic?: boolean | undefined
}

const USER_DELETED: WireError = { code: 'UNAUTHORIZED', message: 'The user was deleted; sign in again' }

/** What the write path needs of a stored `d` record. @internal */
export function toIndexed(raw: string): IndexedRecord {
  const { rev, value, expiresAt } = parseRecord(raw)
  const record: IndexedRecord = { rev, valueBytes: value === undefined ? undefined : utf8Length(value) }
  if (expiresAt !== undefined) record.expiresAt = expiresAt
  return record
}

/**
 * The writes of one group commit, planned against an overlay of what earlier requests of the same flush wrote,
 * so that the whole flush becomes one atomic batch. What the caches hold (meta, exactly-once records, the key
 * index) is not read again, so a flush of cached users reads nothing before its batch. @internal
 */
export class FlushPlan {
  readonly #db: LevelDatabase
  readonly #cached: (userId: string) => CachedUser | undefined
  readonly #quota: UserQuota
  /** Records read before planning. */
  readonly #read = new Map<string, string | undefined>()
  /** The key index of each user as it was when the flush started (`undefined`: not cached, records were read). */
  readonly #indexes = new Map<string, ReadonlyMap<string, IndexedRecord> | undefined>()
  /** Records this flush writes: a string to put, `null` to delete. The last write of a key wins. */
  readonly #writes = new Map<string, string | null>()
  /** Every user of the flush as it will be once the batch is written. */
  readonly users: Map<string, UserOutcome> = new Map()
  /** Users this flush cleared: their dead records are left to a purge. */
  readonly purges: Set<string> = new Set()
  readonly #budget: StorageBudget | undefined
  /** How the flush changes the bytes of all users together (for the storage budget). */
  bytesDelta = 0

  constructor(db: LevelDatabase, cached: (userId: string) => CachedUser | undefined, quota: UserQuota, budget?: StorageBudget) {
    this.#db = db
    this.#cached = cached
    this.#quota = quota
    this.#budget = budget
  }

  /**
   * Reads, in one `getMany`, every record the requests will look at that no cache holds (often none). Returns
   * `undefined` when there was nothing to read, so that a flush of cached users plans and issues its batch in the
   * same synchronous step as it took the requests (no scheduling point before the fsync).
   */
  prefetch(requests: readonly CommitRequest[]): Promise<void> | undefined {
    const keys = new Set<string>()
    for (const { userId, mutations, clientId } of requests) {
      const cached = this.#cached(userId)
      if (!this.#indexes.has(userId)) this.#indexes.set(userId, cached?.index)
      if (cached?.meta === undefined) keys.add(metaKey(userId))
      if (cached?.deletion === undefined) keys.add(deletionKey(userId))
      if (clientId !== undefined && cached?.clients.has(clientId) !== true) keys.add(clientKey(userId, clientId))
      if (this.#indexes.get(userId) === undefined) for (const m of mutations) if (m.op !== 'clear') keys.add(dataKey(userId, m.key))
    }
    if (keys.size === 0) return this.#loadUsers(requests)
    const list = [...keys]
    return this.#db.getMany(list, UTF8).then((values) => {
      list.forEach((k, i) => this.#read.set(k, values[i] ?? undefined))
      return this.#loadUsers(requests)
    })
  }

  /** Starts the outcome of every user of the requests; `undefined` unless some user's usage has to be counted first. */
  #loadUsers(requests: readonly CommitRequest[]): Promise<void> | undefined {
    let counting: Array<Promise<void>> | undefined
    for (const { userId } of requests) {
      const count = this.#loadUser(userId)
      if (count !== undefined) (counting ??= []).push(count)
    }
    return counting === undefined ? undefined : Promise.all(counting).then(() => undefined)
  }

  /**
   * The user's outcome, started from the cached meta or the one read. A meta written before usage was counted
   * gets it counted, once: the returned promise fills it in.
   */
  #loadUser(userId: string): Promise<void> | undefined {
    if (this.users.has(userId)) return undefined
    const cached = this.#cached(userId)
    const deletion = cached?.deletion !== undefined ? cached.deletion : (parseDeletion(this.#read.get(deletionKey(userId))) ?? null)
    const meta: UserMeta = cached?.meta !== undefined ? { ...cached.meta } : parseMeta(this.#read.get(metaKey(userId)), deletion ?? undefined)
    this.users.set(userId, { meta, deletion, clients: new Map(), cleared: false, records: new Map() })
    if (!Number.isNaN(meta.keys) && !Number.isNaN(meta.bytes)) return undefined
    return countUsage(this.#db, userId, meta.clearRev).then((usage) => void Object.assign(meta, usage))
  }

  /** Plans one request (after {@link prefetch}) and tells what it will have done once the batch is written. */
  apply(request: CommitRequest): CommitResult {
    const { userId, mutations, clientId, authorizedAt, expire } = request
    const user = this.users.get(userId)!
    const meta = user.meta
    if (authorizedAt !== undefined && user.deletion !== null && user.deletion.ms >= authorizedAt) {
      return { results: mutations.map(({ mid }) => ({ mid, error: USER_DELETED })), changes: [], head: meta.head }
    }
    const client = clientId === undefined ? undefined : this.#client(userId, user, clientId)
    const tracked = clientId !== undefined
    const outcome = request.atomic === true
      ? this.#applyAtomic(userId, user, mutations, client, tracked)
      : this.#applyEach(userId, user, mutations, client, tracked, false, expire)
    if (clientId !== undefined) {
      user.clients.set(clientId, outcome.client ?? null)
      if (outcome.client !== undefined) this.#writes.set(clientKey(userId, clientId), formatClient(outcome.client))
    }
    // A sweep that deleted nothing (the keys were written since, or the user deleted) leaves the meta alone: it
    // would bring a deleted user's meta back. Nor is a sweep a use of the user (for pruning unused users).
    if (expire !== undefined) {
      if (outcome.changes.length > 0) this.#writes.set(metaKey(userId), formatMeta(meta))
      return { results: outcome.results, changes: outcome.changes, head: meta.head }
    }
    // The meta is written anyway, so keeping the time of the last write (for pruning unused users) costs nothing.
    meta.usedAt = nowInSeconds()
    this.#writes.set(metaKey(userId), formatMeta(meta))
    return { results: outcome.results, changes: outcome.changes, head: meta.head }
  }

  /** Applies mutations one by one: each one that fails (a condition, unless `checked`, or the quota) fails alone. */
  #applyEach(
    userId: string, user: UserOutcome, mutations: Mutation[], client: ClientRecord | undefined, tracked: boolean, checked = false,
    expire?: CommitRequest['expire'],
  ): Applied {
    const results: MutationResult[] = []
    const changes: Change[] = []
    if (expire !== undefined) for (const k of expire.expiryKeys) this.#writes.set(k, null)
    for (const m of mutations) {
      // A sweep deletes only what has expired by its moment (a later store or delete made it moot).
      if (expire !== undefined && !this.#expiredBy(userId, user, m, expire.now)) {
        results.push({ mid: m.mid, rev: user.meta.head })
        continue
      }
      const repeated = this.#repeated(userId, user, m, client)
      if (repeated !== undefined) {
        results.push(repeated)
        continue
      }
      // An atomic batch's conditions were checked together, before its first write.
      const conflict = checked ? undefined : checkCondition(m, this.#version(userId, user, m))
      if (conflict !== undefined) {
        // Counts as applied (a retry gets CONFLICT again), but takes no rev and writes nothing.
        results.push({ mid: m.mid, error: conflict })
        if (tracked) client = withConflict(client, m.mid, user.meta.head)
        continue
      }
      const over = this.#overQuota(userId, user, m)
      if (over !== undefined) {
        // Rejected whole: no rev, no record, and the mid stays unapplied.
        results.push({ mid: m.mid, error: over })
        continue
      }
      const rev = ++user.meta.head
      changes.push(this.#mutate(userId, user, m, rev))
      results.push({ mid: m.mid, rev })
      if (tracked) client = { mid: m.mid, rev, conflicts: client?.conflicts }
    }
    return { results, changes, client }
  }

  /**
   * Applies all the new mutations or none: every condition is checked first, against the state before the batch;
   * then they are applied in order, and if one fails (the quota) the plan is put back as it was.
   */
  #applyAtomic(userId: string, user: UserOutcome, mutations: Mutation[], client: ClientRecord | undefined, tracked: boolean): Applied {
    const fresh = mutations.filter((m) => this.#repeated(userId, user, m, client) === undefined)
    const conflicts = new Map(fresh.flatMap((m) => {
      const error = checkCondition(m, this.#version(userId, user, m))
      return error === undefined ? [] : [[m.mid, error] as const]
    }))
    const failWith = (errorOf: (m: Mutation) => WireError, remember: boolean): Applied => {
      let after = client
      const results = mutations.map((m): MutationResult => {
        const repeated = this.#repeated(userId, user, m, client)
        if (repeated !== undefined) return repeated
        if (remember) after = withConflict(after, m.mid, user.meta.head)
        return { mid: m.mid, error: errorOf(m) }
      })
      return { results, changes: [], client: after }
    }
    if (conflicts.size > 0) {
      const first = conflicts.values().next().value!
      const sibling = (m: Mutation): WireError => conflictError(`Another write of its atomic batch conflicted: ${first.message}`, this.#version(userId, user, m))
      return failWith((m) => conflicts.get(m.mid) ?? sibling(m), tracked)
    }
    const saved = this.#save(user)
    const applied = this.#applyEach(userId, user, fresh, client, tracked, true)
    const failed = applied.results.find((r): r is { mid: number; error: WireError } => 'error' in r)
    if (failed === undefined) return { ...applied, results: mutations.map((m) => this.#repeated(userId, user, m, client) ?? applied.results.find((r) => r.mid === m.mid)!) }
    this.#restore(user, saved)
    return failWith((m) => (m.mid === failed.mid ? failed.error : { ...failed.error, message: `Another write of its atomic batch was refused: ${failed.error.message}` }), false)
  }

  /** The answer to a mid the client's record shows applied (or conflicted) already; `undefined` for a new one. */
  #repeated(userId: string, user: UserOutcome, m: Mutation, client: ClientRecord | undefined): MutationResult | undefined {
    if (client === undefined || m.mid > client.mid) return undefined
    if (client.conflicts?.includes(m.mid) !== true) return { mid: m.mid, rev: client.rev }
    const version = this.#version(userId, user, m)
    return { mid: m.mid, error: conflictError('This write was rejected before: its condition did not hold', version) }
  }

  /** The key's live version as planned so far (0: no live value, also an expired one; a clear has none). */
  #version(userId: string, user: UserOutcome, m: Mutation): number {
    if (m.op === 'clear') return 0
    const old = this.#old(userId, user, m.key)
    return old?.valueBytes === undefined || (old.expiresAt !== undefined && old.expiresAt <= Date.now()) ? 0 : old.rev
  }

  /** What an atomic request may have to put back. */
  #save(user: UserOutcome): SavedPlan {
    return { writes: new Map(this.#writes), meta: { ...user.meta }, records: new Map(user.records), cleared: user.cleared, purges: new Set(this.purges), bytesDelta: this.bytesDelta }
  }

  #restore(user: UserOutcome, saved: SavedPlan): void {
    this.#writes.clear()
    for (const [k, v] of saved.writes) this.#writes.set(k, v)
    Object.assign(user.meta, saved.meta)
    user.records = saved.records
    user.cleared = saved.cleared
    this.purges.clear()
    for (const p of saved.purges) this.purges.add(p)
    this.bytesDelta = saved.bytesDelta
  }

  /** Whether the key of `m` holds a value that has expired by `now` (what an expiry sweep deletes). */
  #expiredBy(userId: string, user: UserOutcome, m: Mutation, now: number): boolean {
    if (m.op === 'clear') return false
    const old = this.#old(userId, user, m.key)
    return old?.valueBytes !== undefined && old.expiresAt !== undefined && old.expiresAt <= now
  }

  /** The client's exactly-once record: planned by this flush, cached, or read. */
  #client(userId: string, user: UserOutcome, clientId: string): ClientRecord | undefined {
    if (user.clients.has(clientId)) return user.clients.get(clientId) ?? undefined
    const cached = this.#cached(userId)?.clients
    if (cached?.has(clientId) === true) return cached.get(clientId) ?? undefined
    const raw = this.#read.get(clientKey(userId, clientId))
    const record = raw === undefined ? undefined : parseClient(raw)
    // A client's record from before the user's deletion is dead, like the user's records then.
    return record === undefined || record.rev <= (user.deletion?.head ?? 0) ? undefined : record
  }

  /** Why a mutation would take the user past the quota, or `undefined`. Writes that shrink usage always pass. */
  #overQuota(userId: string, user: UserOutcome, m: Mutation): WireError | undefined {
    if (m.op === 'clear') return undefined
    const { bytes, keys } = this.#usageDelta(userId, user, m)
    if (keys > 0 && user.meta.keys + keys > this.#quota.maxKeys) {
      return { code: 'QUOTA_EXCEEDED', message: `A user may keep at most ${this.#quota.maxKeys} keys` }
    }
    if (bytes > 0 && user.meta.bytes + bytes > this.#quota.maxBytes) {
      return { code: 'QUOTA_EXCEEDED', message: `A user may store at most ${this.#quota.maxBytes} bytes` }
    }
    if (this.#budget?.refuses(userId, bytes, this.bytesDelta) === true) {
      return { code: 'STORAGE_FULL', message: 'The server\'s storage for anonymous identities is full' }
    }
    return undefined
  }

  /** How a store or delete changes the user's live keys and bytes. */
  #usageDelta(userId: string, user: UserOutcome, m: Mutation & { key: string }): { bytes: number; keys: number } {
    const old = this.#old(userId, user, m.key)
    const after = m.op === 'store' ? utf8Length(m.value) : undefined
    // A delete of a key without a live value stores nothing (see #mutate), so it costs nothing.
    if (after === undefined && old?.valueBytes === undefined) return { bytes: 0, keys: 0 }
    const bytes = recordBytesOf(m.key, after) - (old === undefined ? 0 : recordBytesOf(m.key, old.valueBytes))
    return { bytes, keys: (after === undefined ? 0 : 1) - (old?.valueBytes === undefined ? 0 : 1) }
  }

  /** The batch that makes the plan durable. */
  operations(): LevelBatchOperation[] {
    return Array.from(this.#writes, ([key, value]) =>
      value === null ? { type: 'del' as const, key } : { type: 'put' as const, key, value })
  }

  #mutate(userId: string, user: UserOutcome, m: Mutation, rev: number): Change {
    if (m.op === 'clear') {
      this.#clear(userId, rev)
      this.bytesDelta -= user.meta.bytes
      Object.assign(user.meta, { clearRev: rev, keys: 0, bytes: 0 })
      user.cleared = true
      user.records.clear()
      return { rev, clear: true }
    }
    const delta = this.#usageDelta(userId, user, m)
    user.meta.keys += delta.keys
    user.meta.bytes += delta.bytes
    this.bytesDelta += delta.bytes
    const value = m.op === 'store' ? m.value : undefined
    const expiresAt = m.op === 'store' ? m.expiresAt : undefined
    const old = this.#old(userId, user, m.key)
    // Deleting a key that has no live record stores nothing: no client can hold it from after the last clear
    // without a record, and a client that holds it from before catches up through that clear (or the old tombstone).
    if (value === undefined && old?.valueBytes === undefined) return { rev, key: m.key, deleted: true }
    // Drop the log entry of the overwritten record (its rev is known without a read), so the log holds one entry
    // per live key or tombstone.
    if (old !== undefined) this.#writes.set(logKey(userId, old.rev), null)
    // The old value's expiry goes with it (a store without expiresAt clears the expiry).
    if (old?.expiresAt !== undefined) this.#writes.set(expiryKey(old.expiresAt, userId, m.key), null)
    this.#writes.set(dataKey(userId, m.key), formatRecord(rev, value, expiresAt))
    this.#writes.set(logKey(userId, rev), m.key)
    if (expiresAt !== undefined) this.#writes.set(expiryKey(expiresAt, userId, m.key), String(rev))
    const record: IndexedRecord = { rev, valueBytes: value === undefined ? undefined : utf8Length(value) }
    if (expiresAt !== undefined) record.expiresAt = expiresAt
    user.records.set(m.key, record)
    if (value === undefined) return { rev, key: m.key, deleted: true }
    return expiresAt === undefined ? { rev, key: m.key, value } : { rev, key: m.key, value, expiresAt }
  }

  /** The record a key has before this mutation: planned by this flush, in the cached index, or read. */
  #old(userId: string, user: UserOutcome, key: string): IndexedRecord | undefined {
    const planned = user.records.get(key)
    if (planned !== undefined) return planned ?? undefined
    if (user.cleared) return undefined
    const index = this.#indexes.get(userId)
    if (index !== undefined) return index.get(key)
    const raw = this.#read.get(dataKey(userId, key))
    const record = raw === undefined ? undefined : toIndexed(raw)
    return record === undefined || record.rev <= user.meta.clearRev ? undefined : record
  }

  /**
   * Clears the user in constant work: the meta's clear rev makes every older record dead at once, and a purge
   * (recorded in the same batch, resumed after a crash) removes them later in bounded steps. Records this flush
   * planned before the clear are dropped from the batch.
   */
  #clear(userId: string, rev: number): void {
    for (const tag of ['d', 'l'] as const) {
      const range = userRange(tag, userId)
      for (const [key, value] of this.#writes) if (value !== null && key.startsWith(range.gte)) this.#writes.delete(key)
    }
    this.#writes.set(purgeKey(userId), String(rev))
    this.purges.add(userId)
  }
}

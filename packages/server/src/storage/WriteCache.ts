import { UTF8, type LevelDatabase } from './LevelDatabase.js'
import type { CachedUser, ClientRecord, IndexedRecord, UserMeta, UserOutcome } from './FlushPlan.js'
import { toIndexed } from './FlushPlan.js'
import { dataKeyOffset, userRange, type LevelDeletion } from './levelKeys.js'

/** Beyond this many cached users, the whole cache is dropped between flushes (it refills from the database). */
const MAX_CACHED_USERS = 50_000
/** Beyond this many cached exactly-once records of one user, that user's are dropped (they refill on use). */
const MAX_CACHED_CLIENTS = 1000
/** Records per read of an index load. */
const LOAD_PAGE = 1000
/** Enough for a page of typical records, so that one read is one round trip (classic-level stops at 16 KiB by default). */
const LOAD_PAGE_BYTES = 1024 * 1024

/** A load of a user's key index in progress, started from a snapshot of the durable records. */
interface IndexLoad {
  /** Records committed since the snapshot, applied over it at the end (`null`: removed). */
  readonly since: Map<string, IndexedRecord | null>
}

interface UserState extends CachedUser {
  meta: UserMeta | undefined
  deletion: LevelDeletion | null | undefined
  readonly clients: Map<string, ClientRecord | null>
  index: Map<string, IndexedRecord> | undefined
  loading: IndexLoad | undefined
  /** The user has more records than the index may hold: the write path reads their records instead. */
  unindexable: boolean
}

/**
 * What the write path keeps of its users so that a commit needs no read before its batch: the meta, the
 * exactly-once record of each client, and an index of every key's rev and value size (loaded in the background
 * with one iterator, the first time the user writes). Holds durable state only: the group commit loop applies
 * each flush's outcome once its batch is written, and drops a user before and after any operation that changes
 * the user's records outside a flush (deletion, import). The indexes are bounded by `maxIndexedKeys` in all,
 * evicting the least recently written users'. Correct only while this process is the only writer of the
 * database, which LevelDB's lock file ensures.
 * @internal
 */
export class WriteCache {
  readonly #db: LevelDatabase
  readonly #maxIndexedKeys: number
  /** In order of the last write (least recent first). */
  readonly #users = new Map<string, UserState>()
  #indexedKeys = 0
  #loading = 0

  constructor(db: LevelDatabase, maxIndexedKeys: number) {
    this.#db = db
    this.#maxIndexedKeys = maxIndexedKeys
  }

  /** What is cached of a user. */
  get(userId: string): CachedUser | undefined {
    return this.#users.get(userId)
  }

  /** How many keys the indexes hold in all. */
  get indexedKeys(): number {
    return this.#indexedKeys
  }

  /** Caches a meta (and the deletion marker it was made with) read while no batch was in flight. */
  setMeta(userId: string, meta: UserMeta, deletion: LevelDeletion | null): void {
    const state = this.#state(userId)
    state.meta = meta
    state.deletion = deletion
  }

  /** Applies the outcome of a flush whose batch is durable, then starts loading an index the flush could use. */
  commit(outcomes: ReadonlyMap<string, UserOutcome>): void {
    for (const [userId, outcome] of outcomes) this.#apply(userId, outcome)
    this.#evict()
    if (this.#loading > 0) return
    for (const userId of outcomes.keys()) {
      const state = this.#users.get(userId)
      if (state !== undefined && state.index === undefined && !state.unindexable) return void this.#load(userId, state)
    }
  }

  /** Forgets a user (their records are about to change, or did, outside a flush). */
  drop(userId: string): void {
    const state = this.#users.get(userId)
    if (state === undefined) return
    this.#indexedKeys -= state.index?.size ?? 0
    this.#users.delete(userId)
  }

  /** Forgets everyone. */
  clear(): void {
    this.#users.clear()
    this.#indexedKeys = 0
  }

  #state(userId: string): UserState {
    let state = this.#users.get(userId)
    if (state === undefined) {
      if (this.#users.size >= MAX_CACHED_USERS) this.clear()
      state = { meta: undefined, deletion: undefined, clients: new Map(), index: undefined, loading: undefined, unindexable: false }
      this.#users.set(userId, state)
    }
    return state
  }

  #apply(userId: string, outcome: UserOutcome): void {
    const state = this.#state(userId)
    // Most recently written last, for the eviction.
    this.#users.delete(userId)
    this.#users.set(userId, state)
    state.meta = outcome.meta
    state.deletion = outcome.deletion
    if (state.clients.size + outcome.clients.size > MAX_CACHED_CLIENTS) state.clients.clear()
    for (const [clientId, record] of outcome.clients) state.clients.set(clientId, record)
    if (outcome.cleared) {
      // Nothing older than the clear is left, so the index is known without a load.
      this.#indexedKeys -= state.index?.size ?? 0
      state.index = new Map()
      state.loading = undefined
      state.unindexable = false
    }
    const target = state.index ?? state.loading?.since
    if (target === undefined) return
    for (const [key, record] of outcome.records) {
      const before = target.size
      if (record === null) target.delete(key)
      else target.set(key, record)
      if (target === state.index) this.#indexedKeys += target.size - before
    }
  }

  /** Drops the indexes of the least recently written users until the rest fit. */
  #evict(): void {
    for (const state of this.#users.values()) {
      if (this.#indexedKeys <= this.#maxIndexedKeys) return
      if (state.index === undefined) continue
      this.#indexedKeys -= state.index.size
      state.index = undefined
    }
  }

  /**
   * Loads a user's index from a snapshot taken now, between two batches (so it holds exactly what is durable),
   * while later flushes record what they write for it. Until it is done the write path reads as before.
   */
  async #load(userId: string, state: UserState): Promise<void> {
    const loading: IndexLoad = { since: new Map() }
    state.loading = loading
    this.#loading++
    const index = new Map<string, IndexedRecord>()
    const offset = dataKeyOffset(userId)
    // Records at or below the last clear are dead (a purge removes them); the index leaves them out.
    const clearRev = state.meta?.clearRev ?? Number.POSITIVE_INFINITY
    let complete = false
    const current = (): boolean => this.#users.get(userId) === state && state.loading === loading
    try {
      const it = this.#db.iterator({ ...userRange('d', userId), ...UTF8, highWaterMarkBytes: LOAD_PAGE_BYTES })
      try {
        for (;;) {
          const page = await it.nextv(LOAD_PAGE)
          if (page.length === 0) {
            complete = true
            break
          }
          for (const [k, raw] of page) {
            const record = toIndexed(raw)
            if (record.rev > clearRev) index.set(k.slice(offset), record)
          }
          if (!current()) break
          if (index.size > this.#maxIndexedKeys) {
            state.unindexable = true
            break
          }
        }
      } finally {
        await it.close()
      }
    } catch {
      // The index only saves reads: without it the write path reads the records, as it does for any uncached user.
    } finally {
      this.#loading--
    }
    if (!current()) return
    state.loading = undefined
    if (!complete) return
    for (const [key, record] of loading.since) {
      if (record === null) index.delete(key)
      else index.set(key, record)
    }
    state.index = index
    this.#indexedKeys += index.size
    this.#evict()
  }
}

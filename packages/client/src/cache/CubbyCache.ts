import type { DevicePublicJwk, Mutation } from '@cubby/protocol'

/** A confirmed record: the server's value of a key at a revision, kept in its encoded form. */
export interface CachedEntry {
  key: string
  /** The revision at which the server wrote this value. */
  rev: number
  /** The value as `encodeValue` wrote it. */
  value: string
  /** When the value expires (ms since the epoch, server time); absent: never. */
  expiresAt?: number
}

/** A write that is durable locally and not yet known to be on the server. */
export interface OutboxEntry {
  /** Orders the outbox across client ids (and so across page loads); unique together with the client id. */
  seq: number
  /** The client id the mutation was made under; it is replayed under the same one. */
  clientId: string
  mutation: Mutation
  /**
   * The mid (same client id) of the write whose result this write's condition waits for (an `update` made while
   * an earlier write of the key was pending): it is not sent before that write is acknowledged, then its `if` is
   * set from that write's revision. Absent for every other write.
   */
  after?: number
  /** The atomic batch the write belongs to (`push.batch.id`); `last` on its final write. */
  batch?: { id: string; last?: true }
}

/** Names one outbox entry: a mutation is unique by its client id and mutation id. */
export interface OutboxRef {
  clientId: string
  mid: number
}

/** Everything a cache holds for one user. */
export interface CacheSnapshot {
  /** Confirmed records, in no particular order. */
  entries: CachedEntry[]
  /** The outbox, ordered by `seq` (then client id and mid). */
  outbox: OutboxEntry[]
  /** The revision the confirmed records are current to; 0 when the cache is empty. */
  cursor: number
  /** The marker last written with {@link CacheWrite.marker}; missing in a new (or evicted) database. */
  marker?: string
  /** The offset of the server's clock to this device's (ms, server minus device), last learnt; absent: never met the server. */
  clockOffset?: number
}

/**
 * One atomic change to a cache: all of it is written in one transaction, or none of it. Parts apply in this
 * order: `clearEntries`, `deleteEntries`, `putEntries`, `outboxPut`, `outboxDelete`, `cursor`. A key is in at
 * most one of `deleteEntries` and `putEntries`: the write gives each key's last state.
 *
 * Several tabs may write one user's cache. A write that carries a `cursor` holds the server's changes up to
 * it, contiguous from a cursor at or below the stored one, so: when its cursor is not above the stored
 * cursor, its confirmed parts (`clearEntries`, `deleteEntries`, `putEntries`) are older than what is stored
 * and are skipped, and otherwise the stored cursor becomes the larger one. The outbox parts always apply.
 * Read the stored cursor inside the write's transaction: see {@link confirmedPartApplies}.
 */
export interface CacheWrite {
  /** Delete every confirmed record first (a `clear` from the server). */
  clearEntries?: boolean
  deleteEntries?: string[]
  putEntries?: CachedEntry[]
  outboxPut?: OutboxEntry[]
  outboxDelete?: OutboxRef[]
  cursor?: number
  /**
   * The server started over (it was behind): replace the confirmed records and the cursor whatever is stored. A
   * reset to cursor 0 deletes the stored cursor (the write then only frees space, which a full disk still takes).
   */
  reset?: boolean
  /**
   * Stores a marker that {@link CacheSnapshot.marker} reads back, unless one is stored already (two tabs marking a
   * new database at once keep the first): its absence tells an evicted database.
   */
  marker?: string
  /**
   * The marker the cache must hold for this write to apply: when the stored one differs (the database was deleted
   * and created again under the client), nothing is written and the write rejects with CubbyError `CACHE_EVICTED`.
   * A write of outbox parts alone may be committed before the check and still reject: they are only pending
   * writes, which the client writes again with everything else once it has rebuilt the database.
   */
  expectMarker?: string
  /** A new offset of the server's clock to this device's (see {@link CacheSnapshot.clockOffset}); always applies. */
  clockOffset?: number
}

/**
 * The credentials of the default anonymous identity, kept so that a reload stays the same user: a key pair made
 * on this device (`privateKey` is a non-extractable WebCrypto key, which IndexedDB stores as it is), or, from
 * earlier versions and where WebCrypto is missing, a token of `POST /v1/identities`.
 */
export type CubbyIdentity = ({ userId: string; token: string } | { userId: string; privateKey: CryptoKey; publicJwk: DevicePublicJwk }) & {
  /** A sign-in of this anonymous user under way (see {@link SignInMarker}); absent otherwise. */
  signingIn?: SignInMarker
}

/**
 * Kept with the anonymous identity from just before `signIn` asks the server to merge until the switch is complete:
 * the client of `account` that starts next on this device finishes an interrupted switch (see `finishSignIn`).
 * With the identity, so that one record names the anonymous user and the switch, and clearing it clears both.
 */
export interface SignInMarker {
  /** The account the anonymous user is being merged into (the `sub` of its token). */
  account: string
  /** The merge rule the sign-in asked for. */
  prefer: 'account' | 'anonymous'
}

/**
 * The record to store for an identity: its own members only, so that nothing else an object carries is cloned.
 *
 * @internal
 */
export const identityRecord = (identity: CubbyIdentity): CubbyIdentity => {
  const { signingIn } = identity
  const marker = signingIn === undefined ? {} : { signingIn: { account: signingIn.account, prefer: signingIn.prefer } }
  return 'token' in identity
    ? { userId: identity.userId, token: identity.token, ...marker }
    : { userId: identity.userId, privateKey: identity.privateKey, publicJwk: { ...identity.publicJwk }, ...marker }
}

/** The local database of one user. */
export interface CubbyCache {
  /** Whether the data outlives the page (false for the memory cache). */
  readonly persistent: boolean
  /** Reads everything, once, when the client starts. */
  load(): Promise<CacheSnapshot>
  /** Applies a write atomically: one transaction. */
  write(batch: CacheWrite): Promise<void>
  /**
   * Applies a write atomically before returning, for a cache that needs no I/O (memory): the client then
   * skips batching, and a store's push leaves in the same tick. Throws what `write` would reject with.
   * `ownsRecords`: the caller made the write's records (`putEntries`, and the `outboxPut` entries with their
   * mutations) for this write and changes them only to write them again, so the cache may keep them as they are
   * (only the client's replica passes it).
   */
  writeSync?(batch: CacheWrite, ownsRecords?: boolean): void
  /**
   * Calls `listener` once the browser closes the connection under the cache (its database was deleted: "clear
   * site data", storage pressure). A cache that tells this lets the client check the database's marker once per
   * connection (with the first write on it, and again after such a close) rather than in every write; without it,
   * every write carries {@link CacheWrite.expectMarker}.
   */
  onClosed?(listener: () => void): void
  /** Deletes this user's data (and closes the cache). */
  destroy(): Promise<void>
  /** Releases the database connection. */
  close(): Promise<void>
}

/**
 * Opens per-user caches and keeps the anonymous identity. Implemented for idb-keyval (`createIdbCache`),
 * Dexie (`createDexieCache` from `@cubby/client/dexie`) and memory (`createMemoryCache`).
 */
export interface CubbyCacheProvider {
  readonly kind: 'indexeddb' | 'dexie' | 'memory'
  /** Opens (creating if needed) the cache of one user. Rejects when the storage cannot be opened. */
  open(userId: string): Promise<CubbyCache>
  loadIdentity(): Promise<CubbyIdentity | undefined>
  /** Saves the identity, or deletes it when given `undefined`. */
  saveIdentity(identity: CubbyIdentity | undefined): Promise<void>
}

/**
 * Tells whether a write's confirmed parts and cursor apply over the stored cursor (see {@link CacheWrite}):
 * a write without a cursor, a reset, or one whose cursor is ahead of the stored one.
 *
 * @internal
 */
export function confirmedPartApplies(batch: CacheWrite, stored: number | undefined): boolean {
  return batch.cursor === undefined || batch.reset === true || stored === undefined || batch.cursor > stored
}

/**
 * Sorts an outbox in replay order: by `seq`, then client id and mid (two tabs may have used the same seq).
 *
 * @internal
 */
export function compareOutbox(a: OutboxEntry, b: OutboxEntry): number {
  if (a.seq !== b.seq) return a.seq - b.seq
  if (a.clientId !== b.clientId) return a.clientId < b.clientId ? -1 : 1
  return a.mutation.mid - b.mutation.mid
}

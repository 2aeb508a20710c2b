import type { Registry } from 'prom-client'
import type { CatchUpReason } from '../metrics/ServerMetrics.js'

/** Counters of the server that a storage (or the bus between nodes) reports into, given to `registerMetrics`. */
export interface StorageMetricsHooks {
  /** A session catches up; a bus that re-reads the log after a missed message calls this with `gap`. */
  catchUp(reason: CatchUpReason): void
}
import type { Change, Mutation, MutationResult } from '@cubby/protocol'
import type { ImportResult, UserRecord, UserSummary } from './UserRecord.js'
import type { DeviceRegistry } from '../auth/DeviceRegistry.js'
import type { MergeUserOptions, MergeUserResult } from './MergeUser.js'

/**
 * The most bytes of values one catch-up read returns beyond its first change: a page of {@link CubbyStorage.changesSince}
 * or of a {@link StorageSnapshot}. A read stops at its count or once its values reach this, whichever comes first,
 * so a gap of hundreds of large values never has a node hold more than about this much for one session.
 */
export const CATCH_UP_PAGE_BYTES: number = 1024 * 1024

/** The current record of one key: its revision and its encoded value (as made by `encodeValue`). */
export interface StoredEntry {
  key: string
  rev: number
  /** The value in Cubby's encoding; decode with `decodeValue`. */
  value: string
  /** When the value expires (ms since the epoch); absent: never. */
  expiresAt?: number
}

/** The deletions one expiry sweep made for one user (see {@link CubbyStorage.sweepExpired}). */
export interface ExpiredChanges {
  userId: string
  /** Tombstones at new revisions, to publish like any commit's changes. */
  changes: Change[]
}

/** What one {@link CubbyStorage.commit} did. */
export interface CommitResult {
  /** One result per mutation, in the order given: the revision it got (or already had, for a repeated mid). */
  results: MutationResult[]
  /** The changes the commit made, in increasing revision order (none for repeated mids). */
  changes: Change[]
  /** The user's latest revision after the commit. */
  head: number
}

/** Options of {@link CubbyStorage.commit}. */
export interface CommitOptions {
  /**
   * When the writer was authorised (milliseconds since the epoch, taken before the token's check):
   * if the user's deletion (see {@link CubbyStorage.deletedAt}) is at or after it when the commit is applied,
   * every mutation gets `{ mid, error: { code: 'UNAUTHORIZED' } }` and nothing is written. This makes a
   * deletion a barrier: no write accepted before it commits after it.
   * @default undefined (not checked: a write by the server itself)
   */
  authorizedAt?: number
  /**
   * All the mutations or none: their conditions are checked together, against the state before them, and if one
   * fails (a condition, the quota) none is applied and each gets the error that stopped them (mids already
   * applied keep their answers).
   * @default false
   */
  atomic?: boolean
}

/** Options of {@link CubbyStorage.list}. */
export interface StorageListOptions {
  /** Only keys that start with this. */
  prefix?: string
  /** Only keys after this one (exclusive), for paging. */
  after?: string
  /** Most entries to return. */
  limit: number
}

/** One user's records as they were at one revision, read page by page (see {@link CubbyStorage.snapshot}). */
export interface StorageSnapshot {
  /** The user's latest revision in the snapshot. */
  readonly head: number
  /** The revision of the user's last clear in the snapshot; 0 when never cleared. */
  readonly clearRev: number
  /**
   * The next records as changes (live values and tombstones), in key order, at most `limit` and about
   * {@link CATCH_UP_PAGE_BYTES} of values (at least one record); none at the end.
   */
  next(limit: number): Promise<Change[]>
  /** Releases the snapshot. Call it once done, also after an error. */
  close(): Promise<void>
}

/**
 * Where a Cubby server keeps every user's values. One implementation per database (LevelDB now, Redis later);
 * each must pass `runStorageContract`. Keys and user ids arrive validated; they may hold any characters.
 */
export interface CubbyStorage {
  /**
   * Users' devices and one-time link codes (see docs/protocol.md, "Devices"); without it the device routes are
   * `NOT_FOUND` and only a self-certified user's own key signs its device tokens.
   */
  readonly devices?: DeviceRegistry
  /** Opens the underlying database (a no-op if it is open). */
  open(): Promise<void>
  /** Waits for commits in flight, then refuses new ones. Does not close a database owned by the caller. */
  close(): Promise<void>
  /**
   * Registers the storage's own metrics (e.g. Redis command errors and reconnects, named `cubby_…`, no user id
   * labels) into the server's registry, once, when the server is created; `hooks` are the server's own counters
   * it may report into (a catch-up after a gap). Optional.
   * @example
   * ```ts
   * registerMetrics(registry) {
   *   new Counter({ name: 'cubby_redis_reconnects_total', help: 'Reconnects to Redis', registers: [registry] })
   * }
   * ```
   */
  registerMetrics?(registry: Registry, hooks: StorageMetricsHooks): void
  /**
   * Applies one user's mutations in order, atomically and durably (fsync'd) before resolving. Calls for one user
   * are applied in call order, even when not awaited one by one. With a `clientId`, each (clientId, mid) is
   * applied at most once: a mid at or below the last applied mid of that client gets
   * `{ mid, rev: <rev recorded for that client's last mid> }` and changes nothing. A mutation that would take the
   * user past the storage's quota gets `{ mid, error: { code: 'QUOTA_EXCEEDED' } }`, takes no rev, writes nothing
   * and does not count as applied. A store or delete with a condition (`if`) that the key's live version does not
   * meet gets `{ mid, error: { code: 'CONFLICT', rev: <the key's version, 0: absent> } }`, takes no rev, writes
   * nothing and counts as applied: a retry of its mid gets `CONFLICT` again. A delete of a key that has no live value takes a rev but stores nothing (a
   * client that holds the key catches up through the clear or the deletion that removed it). A clear takes
   * constant work: every older record is dead at once (no reader returns it) and removed later, in the
   * background, in bounded steps that let other users' commits through.
   */
  commit(userId: string, mutations: Mutation[], clientId?: string, options?: CommitOptions): Promise<CommitResult>
  /**
   * Deletes values whose `expiresAt` is at or before `now`: reads at most `limit` entries of an index ordered by
   * expiry (so idle keys cost nothing), and commits for each a tombstone at a new revision, through the same
   * path as any write, unless the key was written since. Safe to run on several nodes at once: a value is
   * deleted once. Optional: without it the server does not sweep (reads still hide expired values).
   * @returns The changes to publish, per user.
   */
  sweepExpired?(now: number, limit: number): Promise<ExpiredChanges[]>
  /** The earliest `expiresAt` in the expiry index (possibly of a value written since), or `undefined` when empty. */
  nextExpiry?(): Promise<number | undefined>
  /**
   * The live entry of a key, or `undefined` when it was never stored, deleted, cleared or has expired (a value
   * is gone from its `expiresAt` on, even before the sweep deletes it).
   */
  get(userId: string, key: string): Promise<StoredEntry | undefined>
  /** Live (unexpired) entries in code-point (UTF-8 byte) order of their keys. */
  list(userId: string, options: StorageListOptions): Promise<StoredEntry[]>
  /**
   * Changes with a revision above `rev`, ascending, at most `limit`, and no more values than about
   * {@link CATCH_UP_PAGE_BYTES} (at least one change). Overwritten changes are left out.
   * The returned `rev` is the last revision covered: the head when nothing remains.
   */
  changesSince(userId: string, rev: number, limit: number): Promise<{ changes: Change[]; rev: number }>
  /**
   * Every record of the user (live and deleted) as it was at one revision, for catching up a client from scratch
   * in one scan instead of through the log: a clear at `clearRev` followed by these changes takes any copy of the
   * user to `head`.
   */
  snapshot(userId: string): Promise<StorageSnapshot>
  /** The user's latest revision; 0 before the first write. */
  head(userId: string): Promise<number>
  /** Users that have data, `limit` at a time after `after`, in the storage's order. */
  users(options: { after?: string; limit: number }): Promise<UserSummary[]>
  /**
   * Users whose last write was at or before `before` (seconds since the epoch), `limit` at a time after `after`, in
   * the order of {@link users}; users whose last write was never recorded are left out. For pruning unused users.
   */
  usersUnusedSince(options: { before: number; after?: string; limit: number }): Promise<string[]>
  /**
   * A user's data as records: a `user` header, then every key's record (live or deleted) with its rev, values as
   * stored. Streams; a large user never has to fit in memory.
   * @throws CubbyError `NOT_FOUND` when the user has no data.
   */
  exportUser(userId: string): AsyncIterable<UserRecord>
  /**
   * Writes back what {@link exportUser} gave, into a user that has no data (or whose import did not finish, say
   * for a crash: it resumes), and once every record is written removes the user's deletion marker (see
   * {@link deletedAt}). Ignores the quota.
   * @throws CubbyError `BAD_MESSAGE` for a user that has data or records out of shape.
   */
  importUser(userId: string, records: AsyncIterable<UserRecord>): Promise<ImportResult>
  /**
   * Deletes everything of a user: values, revisions, tombstones, exactly-once records; and, atomically with that,
   * records the time of the deletion (see {@link deletedAt}), whether or not the user had data. All or nothing,
   * also across a crash, and in constant work whatever the user's size: the records are removed later in the
   * background. A later write of the user starts from an empty user (its revisions continue from the old head).
   * @returns whether there was any data.
   */
  deleteUser(userId: string): Promise<boolean>
  /**
   * Moves every live key of user `from` (an anonymous identity) into user `into` (an account) and deletes `from`, in
   * one atomic step (see the implementation for how a crash is handled): each key `into` lacks, and each key both
   * have under `prefer: 'anonymous'`, gets a new revision of `into`; `from`'s tombstones are not carried. `from`'s
   * exactly-once records move to `into` (a client's higher mid wins), with `into`'s new head as their rev. Then `from`
   * is deleted as by {@link deleteUser}. With both users empty the merge still deletes `from`.
   * @throws CubbyError `QUOTA_EXCEEDED` when `into` would end up past the quota (nothing changes); `UNAUTHORIZED` when
   * a user was deleted at or after `options.authorizedAt`.
   */
  mergeUser(from: string, into: string, options: MergeUserOptions): Promise<MergeUserResult>
  /**
   * Waits until the records that clears and deletions left dead (including those a restart resumed) are removed
   * from the database; they are unreadable from the moment of the clear or deletion already. For tools that
   * must leave nothing behind before they exit, such as `cubby-server users delete`.
   */
  purge(): Promise<void>
  /**
   * When the user was last deleted, in whole seconds since the epoch (rounded down); `undefined` when never, or
   * when an import restored the user since. Durable: later writes of the user do not remove it.
   */
  deletedAt(userId: string): Promise<number | undefined>
}

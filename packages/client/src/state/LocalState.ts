import { type Change, type Mutation, type MutationResult, type WireError, isExpired } from '@cubby/protocol'
import type { CacheSnapshot, CacheWrite, CachedEntry, OutboxEntry } from '../cache/CubbyCache.js'
import { stageEntries } from '../cache/stageEntries.js'
import { type Confirmed, confirmedEntry } from './confirmedEntry.js'
import { KeyIndex, type ListOptions } from './KeyIndex.js'
import { PendingWrites, type PendingWrite } from './PendingWrites.js'

/** A value in memory, with the encoding it came from (equal encodings mean equal values). */
export interface ViewEntry {
  readonly encoded: string
  readonly value: unknown
}

/** How a key's visible value changed. */
export type ViewChange = { key: string; value: unknown } | { key: string; deleted: true }

/** What applying server changes did. */
export interface RemoteResult {
  changes: ViewChange[]
  /** Acknowledged writes the cursor has now reached: delete them from the outbox. */
  dropped: PendingWrite[]
  /** The cache write that persists the changes and the cursor. */
  write: CacheWrite
  /** Values that did not decode (and were skipped). */
  errors: unknown[]
}

/** What an ack did. */
export interface AckResult {
  changes: ViewChange[]
  dropped: PendingWrite[]
  rejected: Array<{ write: PendingWrite; error: WireError }>
  /** Writes that were pending and no longer are (acknowledged or rejected). */
  settled: PendingWrite[]
  /** Own session: the cache write that persists the acknowledged writes as confirmed, and the cursor. */
  write: CacheWrite
  /**
   * Own session: what the acknowledged writes changed in `confirmed`, as server changes (a clear as the deletes
   * it made, since confirmed records after its rev stay), for other tabs to apply before the ack. Empty unless
   * asked for (see {@link LocalState.acknowledgeOwn}).
   */
  folded: Change[]
}

/** What the folds of one ack change (see `LocalState.acknowledgeOwn`). */
interface Folding {
  /** The changes to list for other tabs, when asked for. */
  folded: Change[] | undefined
  /** The cache records to put (or delete: null), by key. */
  staged: Map<string, CachedEntry | null>
  /** Keys whose visible value may have changed. */
  keys: Set<string>
}

const confirmedOf = ({ rev, value, expiresAt }: CachedEntry): Confirmed => confirmedEntry(value, rev, expiresAt)
/** A cache record, with `expiresAt` only when there is one. */
const cachedOf = (key: string, rev: number, value: string, expiresAt: number | undefined): CachedEntry =>
  expiresAt === undefined ? { key, rev, value } : { key, rev, value, expiresAt }

/**
 * The client's model of a user's data: `confirmed` (the server's state at `cursor`) with the pending writes
 * laid over it, in order. Pure: no I/O, no events; the caller persists and announces what it returns.
 *
 * @internal
 */
export class LocalState {
  #confirmed = new Map<string, Confirmed>()
  #cursor: number
  readonly #pending: PendingWrites
  readonly #view = new Map<string, ViewEntry>()
  readonly #index = new KeyIndex(() => this.#view.keys())
  /** The server's time now (ms since the epoch), as this device estimates it. */
  readonly #now: () => number
  /** When each visible value that expires does so: what the expiry timer looks at. */
  readonly #expiring = new Map<string, number>()
  /** Whether any value with an expiry was seen: until then no expiry work is done. */
  #anyExpiry = false

  constructor(snapshot: CacheSnapshot, now: () => number = Date.now) {
    this.#now = now
    for (const entry of snapshot.entries) {
      this.#confirmed.set(entry.key, confirmedOf(entry))
      if (entry.expiresAt !== undefined) this.#anyExpiry = true
    }
    this.#cursor = snapshot.cursor
    this.#pending = new PendingWrites(snapshot.outbox)
    if (snapshot.outbox.some((e) => e.mutation.op === 'store' && e.mutation.expiresAt !== undefined)) this.#anyExpiry = true
    this.#refresh(this.#allKeys())
  }

  /** The earliest moment (server time) a visible value expires, or `undefined`. */
  nextExpiry(): number | undefined {
    // Asked after every change event: no iterator while nothing expires.
    if (this.#expiring.size === 0) return undefined
    let next: number | undefined
    for (const at of this.#expiring.values()) if (next === undefined || at < next) next = at
    return next
  }

  /** Hides the values that have expired by now: their keys read as deleted. */
  expire(): ViewChange[] {
    const now = this.#now()
    const due: string[] = []
    for (const [key, at] of this.#expiring) if (at <= now) due.push(key)
    return this.#refresh(due)
  }

  get cursor(): number {
    return this.#cursor
  }

  get pending(): PendingWrites {
    return this.#pending
  }

  get(key: string): ViewEntry | undefined {
    return this.#view.get(key)
  }

  /** The server's version of a key as this state last saw it: the revision of its confirmed value, 0 without one. */
  version(key: string): number {
    return this.#confirmed.get(key)?.rev ?? 0
  }

  /** The key's confirmed value (the server's, as last seen). */
  confirmed(key: string): ViewEntry | undefined {
    return this.#confirmed.get(key)
  }

  /** Replaces the value of a store that was never sent (see {@link PendingWrites.rewrite}); returns the view changes. */
  rewrite(write: PendingWrite, mutation: Mutation & { op: 'store' }): ViewChange[] {
    this.#pending.rewrite(write, mutation)
    return this.#refresh([mutation.key])
  }

  /** Everything confirmed, as one cache write that replaces what the cache holds (to repair it after a failure). */
  snapshotWrite(): CacheWrite {
    const putEntries = [...this.#confirmed].map(([key, { rev, encoded, expiresAt }]) => cachedOf(key, rev, encoded, expiresAt))
    return { clearEntries: true, putEntries, cursor: this.#cursor }
  }

  list(options?: ListOptions): string[] {
    return this.#index.list(options)
  }

  /** Lays new local writes over the view. */
  addWrites(entries: OutboxEntry[]): { writes: PendingWrite[]; changes: ViewChange[] } {
    this.#noteExpiries(entries)
    const writes: PendingWrite[] = []
    for (let i = 0; i < entries.length; i++) writes.push(this.#pending.add(entries[i]!))
    return { writes, changes: this.#refresh(this.#keysOf(writes)) }
  }

  /** Takes writes out of the view: their cache write failed, or the server rejected them. */
  removeWrites(writes: readonly PendingWrite[]): ViewChange[] {
    const keys = new Set<string>()
    this.#remove(writes, keys)
    return this.#refresh(keys)
  }

  /** Drops everything (the user's local data is gone): confirmed records and every write. */
  forget(): { changes: ViewChange[]; writes: PendingWrite[] } {
    const keys = this.#allKeys()
    const writes = this.#remove([...this.#pending.values()], keys)
    this.#confirmed.clear()
    return { changes: this.#refresh(keys), writes }
  }

  /**
   * Lays writes of other tabs over the view (durable already, in the shared outbox), skipping known ones.
   *
   * @returns The writes added and the view changes.
   */
  addForeign(entries: readonly OutboxEntry[]): { writes: PendingWrite[]; changes: ViewChange[] } {
    this.#noteExpiries(entries)
    const writes = this.#addForeign(entries)
    return { writes, changes: this.#refresh(this.#keysOf(writes)) }
  }

  /** Adds the writes of other tabs this state does not know yet. */
  #addForeign(entries: readonly OutboxEntry[]): PendingWrite[] {
    return entries.filter((e) => !this.#pending.find(e.clientId, e.mutation.mid)).map((e) => this.#pending.add(e, true, true))
  }

  /**
   * Catches up with the shared cache after missing what other tabs did: takes its confirmed records when they
   * are ahead, adds outbox entries this state lacks, and drops durable writes the outbox no longer has
   * (another tab saw them through).
   *
   * @returns The view changes and the writes that were added or dropped.
   */
  resync(snapshot: CacheSnapshot): { changes: ViewChange[]; settled: PendingWrite[]; added: PendingWrite[] } {
    const touched = this.#allKeys()
    const settled: PendingWrite[] = []
    if (snapshot.cursor > this.#cursor) {
      this.#confirmed = new Map(snapshot.entries.map((entry) => [entry.key, confirmedOf(entry)]))
      if (snapshot.entries.some((e) => e.expiresAt !== undefined)) this.#anyExpiry = true
      this.#noteExpiries(snapshot.outbox)
      this.#cursor = snapshot.cursor
      const inOutbox = new Set(snapshot.outbox.map((e) => `${e.mutation.mid}:${e.clientId}`))
      for (const w of [...this.#pending.values()]) {
        if (!w.durable || inOutbox.has(`${w.mutation.mid}:${w.clientId}`)) continue
        settled.push(w)
        this.#pending.remove(w)
      }
    }
    const added = this.#addForeign(snapshot.outbox)
    for (const key of this.#allKeys()) touched.add(key)
    const { changes, dropped } = this.advance(this.#cursor, touched)
    return { changes, settled: [...settled, ...dropped], added }
  }

  /** Applies a `changes` frame of this client's own session: one behind the cursor means the server starts over. */
  applyChanges(changes: readonly Change[], rev: number): RemoteResult {
    return this.#applyChanges(changes, rev, rev < this.#cursor)
  }

  /**
   * Applies a `changes` frame another tab's session received (relayed by the leader). It may come after this
   * state moved ahead (a new leader catching up from an older cursor), so only the server's explicit start-over
   * (`{rev: 0, clear: true}`) resets.
   */
  applyRelayed(changes: readonly Change[], rev: number): RemoteResult {
    const first = changes[0]
    return this.#applyChanges(changes, rev, rev < this.#cursor && first !== undefined && first.rev === 0 && 'clear' in first)
  }

  #applyChanges(changes: readonly Change[], rev: number, startsOver: boolean): RemoteResult {
    const touched = new Set<string>()
    const errors: unknown[] = []
    const write: CacheWrite = {}
    const staged = new Map<string, CachedEntry | null>()
    const reset = startsOver ? this.#reset(touched, write) : []
    for (const change of changes) {
      if (change.rev <= this.#cursor) continue // already applied (a resent frame)
      if ('clear' in change) {
        for (const key of this.#confirmed.keys()) touched.add(key)
        this.#confirmed.clear()
        write.clearEntries = true
        staged.clear()
      } else if ('deleted' in change) {
        touched.add(change.key)
        this.#confirmed.delete(change.key)
        staged.set(change.key, null)
      } else {
        // The echo of this client's own write (or a value it already shows) is not decoded again.
        const shown = this.#view.get(change.key)
        const { expiresAt } = change
        let entry: Confirmed
        try {
          entry = shown !== undefined && shown.encoded === change.value
            ? { encoded: shown.encoded, value: shown.value, rev: change.rev, expiresAt }
            : confirmedEntry(change.value, change.rev, expiresAt)
        } catch (error) {
          // The server decodes what it accepts, so this is a codec mismatch: skip the value, keep the cursor going.
          errors.push(error)
          continue
        }
        touched.add(change.key)
        if (expiresAt !== undefined) this.#anyExpiry = true
        // One object for `confirmed` and, through #refresh, the view.
        this.#confirmed.set(change.key, entry)
        staged.set(change.key, cachedOf(change.key, change.rev, change.value, expiresAt))
      }
    }
    const { changes: viewChanges, dropped } = this.advance(rev, touched)
    write.cursor = this.#cursor
    return { changes: viewChanges, dropped: [...reset, ...dropped], write: stageEntries(write, staged), errors }
  }

  /**
   * The server's history is behind this client's cursor (restored from an older backup, or the user was
   * deleted): it sends `{rev: 0, clear: true}` and everything from the start. Drop what was confirmed and
   * go back to 0. Acknowledged writes go too: the revisions they were acknowledged at no longer exist, so
   * the cursor might never reach them, and the server's state is the truth. Unacknowledged writes stay.
   */
  #reset(touched: Set<string>, write: CacheWrite): PendingWrite[] {
    for (const key of this.#confirmed.keys()) touched.add(key)
    this.#confirmed.clear()
    this.#cursor = 0
    Object.assign(write, { clearEntries: true, reset: true })
    return this.#remove(this.#pending.reached(Number.MAX_SAFE_INTEGER), touched)
  }

  /** Moves the cursor to `rev` (a `synced` frame) and drops acknowledged writes it has reached. */
  advance(rev: number, touched: Set<string> = new Set()): { changes: ViewChange[]; dropped: PendingWrite[] } {
    this.#cursor = Math.max(this.#cursor, rev)
    const dropped = this.#remove(this.#pending.reached(this.#cursor), touched)
    return { changes: this.#refresh(touched), dropped }
  }

  /**
   * Applies an `ack` relayed from another tab's session: an acknowledged write stays in the view until the
   * cursor reaches its revision (the relayed `changes` frame before the ack moves it).
   */
  acknowledge(clientId: string, results: readonly MutationResult[]): AckResult {
    return this.#acknowledge(clientId, results, false)
  }

  /**
   * Applies an `ack` of this client's own session, which is without echo (the server does not send a write's
   * change back to the connection that pushed it): each acknowledged write becomes the confirmed record of its
   * key at its revision, unless a later one is there already, and the cursor moves to the highest revision: the
   * server sends an ack only once every other change up to it has been sent.
   *
   * @param relay - Whether to list what the ack confirmed as `folded`, for other tabs: without one, nothing is listed.
   */
  acknowledgeOwn(clientId: string, results: readonly MutationResult[], relay = true): AckResult {
    return this.#acknowledge(clientId, results, true, relay)
  }

  #acknowledge(clientId: string, results: readonly MutationResult[], fold: boolean, relay = false): AckResult {
    const result: AckResult = { changes: [], dropped: [], rejected: [], settled: [], write: {}, folded: [] }
    // One object for every write of the ack (not one per write): what the folds change.
    const into: Folding = { folded: relay ? result.folded : undefined, staged: new Map(), keys: new Set() }
    let top = this.#cursor
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!
      const write = this.#pending.find(clientId, r.mid)
      if (!write || write.ackedRev !== undefined) continue
      result.settled.push(write)
      if ('error' in r) result.rejected.push({ write, error: r.error })
      else {
        this.#pending.settle(write, r.rev)
        if (fold && r.rev > this.#cursor) {
          if (r.rev > top) top = r.rev
          this.#fold(write, r.rev, into)
        }
      }
    }
    if (result.rejected.length > 0) this.#remove(result.rejected.map((r) => r.write), into.keys)
    Object.assign(result, this.advance(top, into.keys))
    if (fold) stageEntries(result.write, into.staged).cursor = this.#cursor
    return result
  }

  /** Makes an acknowledged write the confirmed state of what it wrote, where nothing later is confirmed. */
  #fold({ mutation, entry }: PendingWrite, rev: number, into: Folding): void {
    if (mutation.op === 'clear') {
      for (const [key, confirmed] of this.#confirmed) if (confirmed.rev < rev) this.#unconfirm(key, rev, into)
      return
    }
    const current = this.#confirmed.get(mutation.key)
    if (current !== undefined && current.rev >= rev) return
    if (mutation.op === 'delete') {
      if (current !== undefined) this.#unconfirm(mutation.key, rev, into)
      return
    }
    const { key, value, expiresAt } = mutation
    // The write's own entry becomes the confirmed record (the write leaves the overlay once the cursor reaches it).
    entry!.rev = rev
    this.#confirmed.set(key, entry!)
    into.keys.add(key)
    into.staged.set(key, cachedOf(key, rev, value, expiresAt))
    into.folded?.push(expiresAt === undefined ? { rev, key, value } : { rev, key, value, expiresAt })
  }

  /** A folded write removed `key`'s confirmed record (a delete, or a clear). */
  #unconfirm(key: string, rev: number, into: Folding): void {
    this.#confirmed.delete(key)
    into.keys.add(key)
    into.staged.set(key, null)
    into.folded?.push({ rev, key, deleted: true })
  }

  /** Removes writes, adding the keys whose visible value they may affect to `touched`; returns the writes. */
  #remove<TWrites extends readonly PendingWrite[]>(writes: TWrites, touched: Set<string>): TWrites {
    for (const w of writes) {
      if (w.mutation.op !== 'clear') touched.add(w.mutation.key)
      else for (const key of this.#allKeys()) touched.add(key)
    }
    for (const w of writes) this.#pending.remove(w)
    return writes
  }

  /**
   * Keys whose visible value a set of writes may affect: a clear affects every key. A key may be listed twice
   * ({@link #refresh} finds nothing changed the second time), which costs less than a set per write.
   */
  #keysOf(writes: readonly PendingWrite[]): Iterable<string> {
    const keys: string[] = []
    for (const { mutation } of writes) {
      if (mutation.op === 'clear') return this.#allKeys()
      keys.push(mutation.key)
    }
    return keys
  }

  #allKeys(): Set<string> {
    return new Set([...this.#view.keys(), ...this.#confirmed.keys(), ...this.#pending.keys()])
  }

  #visible(key: string): ViewEntry | undefined {
    const last = this.#pending.last(key)
    if (last === undefined) {
      const confirmed = this.#confirmed.get(key)
      return this.#anyExpiry && confirmed !== undefined ? this.#unexpired(key, confirmed, confirmed.expiresAt) : confirmed
    }
    if (last.mutation.op !== 'store') return undefined
    return this.#anyExpiry ? this.#unexpired(key, last.entry, last.mutation.expiresAt) : last.entry
  }

  /** The entry unless it has expired, keeping {@link #expiring} in step with what is visible. */
  #unexpired(key: string, entry: ViewEntry | undefined, expiresAt: number | undefined): ViewEntry | undefined {
    if (expiresAt === undefined || entry === undefined) {
      this.#expiring.delete(key)
      return entry
    }
    if (isExpired(expiresAt, this.#now())) {
      this.#expiring.delete(key)
      return undefined
    }
    this.#expiring.set(key, expiresAt)
    return entry
  }

  #noteExpiries(entries: readonly OutboxEntry[]): void {
    if (!this.#anyExpiry) this.#anyExpiry = entries.some((e) => e.mutation.op === 'store' && e.mutation.expiresAt !== undefined)
  }

  /** Recomputes the view for `keys`, returning the keys whose visible value changed. */
  #refresh(keys: Iterable<string>): ViewChange[] {
    const changes: ViewChange[] = []
    for (const key of keys) {
      const before = this.#view.get(key)
      const after = this.#visible(key)
      if (after === undefined && this.#anyExpiry) this.#expiring.delete(key)
      // Same encoding, same value: keep the object the app already has (no event, no new reference).
      if (before?.encoded === after?.encoded) continue
      if (after) {
        this.#view.set(key, after)
        if (!before) this.#index.added(key)
        changes.push({ key, value: after.value })
      } else {
        this.#view.delete(key)
        this.#index.removed(key)
        changes.push({ key, deleted: true })
      }
    }
    return changes
  }
}

import { CubbyError } from '@cubby/protocol/core'
import { type UseStore, createStore, promisifyRequest } from 'idb-keyval'
import {
  type CacheSnapshot,
  type CacheWrite,
  type CachedEntry,
  type CubbyCacheProvider,
  type CubbyIdentity,
  type OutboxEntry,
  type OutboxRef,
  compareOutbox,
  confirmedPartApplies,
  identityRecord,
} from './CubbyCache.js'

/** Options of {@link createIdbCache}. */
export interface IdbCacheOptions {
  /** Namespaces the databases, so that two apps on one origin do not collide. @default 'default' */
  name?: string
}

const STORE = 'records'
const CURSOR_KEY = ['m', 'cursor']
const MARKER_KEY = ['m', 'marker']
const CLOCK_KEY = ['m', 'clock']
// Array keys sort by their first element, and any array sorts after any string: ['e'] < ['e', key] < ['e', []].
const allOf = (tag: string): IDBKeyRange => IDBKeyRange.bound([tag], [tag, []])
const entryKey = (key: string): IDBValidKey => ['e', key]
const outboxKey = (clientId: string, mid: number): IDBValidKey => ['o', clientId, mid]

/**
 * Names one database per (name, user id); JSON keeps any characters of either apart.
 *
 * @internal
 */
const idbDatabaseName = (name: string, userId: string | null): string => `cubby:${JSON.stringify(userId === null ? [name] : [name, userId])}`

/**
 * Outbox refs as runs of consecutive mids per client id: a run of acknowledged writes is deleted with one
 * request. A run holds every mid between its ends, so its range deletes nothing else.
 */
function midRuns(refs: readonly OutboxRef[]): Array<[clientId: string, from: number, to: number]> {
  const sorted = [...refs].sort((a, b) => (a.clientId === b.clientId ? a.mid - b.mid : a.clientId < b.clientId ? -1 : 1))
  const runs: Array<[string, number, number]> = []
  for (const { clientId, mid } of sorted) {
    const last = runs.at(-1)
    if (last?.[0] === clientId && mid <= last[2] + 1) last[2] = Math.max(last[2], mid)
    else runs.push([clientId, mid, mid])
  }
  return runs
}

function applyOutbox(store: IDBObjectStore, batch: CacheWrite): void {
  for (const entry of batch.outboxPut ?? []) store.put(entry, outboxKey(entry.clientId, entry.mutation.mid))
  for (const [clientId, from, to] of midRuns(batch.outboxDelete ?? [])) {
    store.delete(from === to ? outboxKey(clientId, from) : IDBKeyRange.bound(outboxKey(clientId, from), outboxKey(clientId, to)))
  }
  if (batch.clockOffset !== undefined) store.put(batch.clockOffset, CLOCK_KEY)
}

/** The confirmed parts, once the stored cursor (read in the same transaction) says they are not stale. */
function applyConfirmed(store: IDBObjectStore, batch: CacheWrite): void {
  if (batch.clearEntries) store.delete(allOf('e'))
  for (const key of batch.deleteEntries ?? []) store.delete(entryKey(key))
  for (const entry of batch.putEntries ?? []) store.put(entry, entryKey(entry.key))
  // A reset to 0 deletes the cursor rather than writing one: a write that only frees space, which a full disk takes.
  if (batch.reset && batch.cursor === 0) store.delete(CURSOR_KEY)
  else if (batch.cursor !== undefined) store.put(batch.cursor, CURSOR_KEY)
}

/** Commits a transaction whose requests are all made, where the browser can (`commit()` is missing in older ones). */
function commit(transaction: IDBTransaction): void {
  // Only while it is active: a store's transaction was committed already.
  if (typeof transaction.commit === 'function' && !committed.has(transaction)) {
    committed.add(transaction)
    transaction.commit()
  }
}
const committed = new WeakSet<IDBTransaction>()

const hasConfirmed = (batch: CacheWrite): boolean =>
  !!(batch.clearEntries || batch.deleteEntries?.length || batch.putEntries?.length) || batch.cursor !== undefined

async function withIdentityStore<T>(name: string, run: (store: UseStore) => Promise<T>): Promise<T> {
  const store = createStore(idbDatabaseName(name, null), 'identity')
  try {
    return await run(store)
  } finally {
    // Identity is read once per start: do not hold the connection.
    await store('readonly', (s) => s.transaction.db.close()).catch(() => {})
  }
}

/**
 * Opens the user's database, with Cubby's store. One of this name without it (created again by other code, or
 * another version of it) holds nothing of Cubby's: it is started over, as after an eviction.
 *
 * The connection is the cache's own rather than idb-keyval's `createStore`, which opens a new connection by itself
 * after the browser closed one: a database deleted under the client ("clear site data") would then be written
 * to without anyone checking its marker, and every transaction would wait for one more promise.
 */
async function openUserDatabase(dbName: string, fresh = false): Promise<IDBDatabase> {
  const request = indexedDB.open(dbName)
  request.onupgradeneeded = () => request.result.createObjectStore(STORE)
  const db = await promisifyRequest(request)
  if (!db.objectStoreNames.contains(STORE)) {
    db.close()
    if (fresh) throw new CubbyError('STORAGE_ERROR', 'The database was created without its store')
    await promisifyRequest(indexedDB.deleteDatabase(dbName))
    return openUserDatabase(dbName, true)
  }
  // Let another tab delete this database (sign-out) instead of blocking it.
  db.onversionchange = () => db.close()
  return db
}

/**
 * Creates the default cache: IndexedDB (with idb-keyval's helpers), one database per (name, user), so that a user's
 * value, outbox entry and cursor are written in one transaction.
 *
 * @returns A provider of persistent caches.
 * @example
 * ```ts
 * const cubby = createCubby({ url, cache: createIdbCache({ name: 'notes-app' }) })
 * ```
 */
export function createIdbCache(options: IdbCacheOptions = {}): CubbyCacheProvider {
  const name = options.name ?? 'default'
  return {
    kind: 'indexeddb',
    async open(userId) {
      const dbName = idbDatabaseName(name, userId)
      const db = await openUserDatabase(dbName)
      // Throws InvalidStateError once the connection is closed (by close(), or by the browser): the caller reopens.
      const records = (mode: IDBTransactionMode): IDBObjectStore => db.transaction(STORE, mode).objectStore(STORE)
      let closed: Promise<void> | undefined
      const close = (): Promise<void> => (closed ??= Promise.resolve(db.close()))
      return {
        persistent: true,
        load: async () => {
          const s = records('readonly')
          const [entries, outbox, cursor, marker, clockOffset] = await Promise.all([
            promisifyRequest(s.getAll(allOf('e'))) as Promise<CachedEntry[]>,
            promisifyRequest(s.getAll(allOf('o'))) as Promise<OutboxEntry[]>,
            promisifyRequest(s.get(CURSOR_KEY)) as Promise<number | undefined>,
            promisifyRequest(s.get(MARKER_KEY)) as Promise<string | undefined>,
            promisifyRequest(s.get(CLOCK_KEY)) as Promise<number | undefined>,
          ])
          const snapshot: CacheSnapshot = { entries, outbox: outbox.sort(compareOutbox), cursor: cursor ?? 0 }
          if (marker !== undefined) snapshot.marker = marker
          if (clockOffset !== undefined) snapshot.clockOffset = clockOffset
          return snapshot
        },
        write: async (batch) => {
          const s = records('readwrite')
          const done = promisifyRequest(s.transaction)
          try {
            // Read before the puts, checked after them (requests run in order): no round trip ahead of the puts,
            // and a mismatch aborts the transaction with everything in it.
            const marker = batch.expectMarker === undefined && batch.marker === undefined ? undefined : promisifyRequest<string | undefined>(s.get(MARKER_KEY))
            // (When a put throws first, the abort below rejects it: nobody awaits it then.)
            marker?.catch(() => {})
            applyOutbox(s, batch)
            // Outbox parts alone (a store) commit at once, without waiting for the marker to come back to the
            // page: written to a database deleted under the client they are only pending writes, which the
            // rebuild after the mismatch below writes again with everything else memory has.
            const confirmed = hasConfirmed(batch)
            if (!confirmed && batch.marker === undefined) commit(s.transaction)
            const storedMarker = await marker
            if (batch.expectMarker !== undefined && storedMarker !== batch.expectMarker) {
              throw new CubbyError('CACHE_EVICTED', 'The database was deleted under the client')
            }
            if (batch.marker !== undefined && storedMarker === undefined) s.put(batch.marker, MARKER_KEY)
            if (confirmed) {
              // Another tab may have written newer server data since this one read it: compare in the transaction.
              const stored = (await promisifyRequest(s.get(CURSOR_KEY))) as number | undefined
              if (confirmedPartApplies(batch, stored)) applyConfirmed(s, batch)
            }
            // Every request is made: commit now rather than after their results came back to the page.
            commit(s.transaction)
          } catch (error) {
            // put() throws synchronously (DataCloneError); without the abort the earlier puts would commit.
            try {
              s.transaction.abort()
            } catch {
              // Already aborted, or committed (a store that found the marker gone).
            }
            done.catch(() => {})
            throw error
          }
          await done
        },
        onClosed(listener) {
          // Fired only when the browser closed the connection, not for close().
          db.onclose = () => listener()
        },
        async destroy() {
          await close()
          await promisifyRequest(indexedDB.deleteDatabase(dbName))
        },
        close,
      }
    },
    // The store's own requests rather than idb-keyval's get/set/del, whose default store would come along.
    loadIdentity: () => withIdentityStore(name, (store) => store('readonly', (s) => promisifyRequest<CubbyIdentity | undefined>(s.get('identity')))),
    saveIdentity: (identity) =>
      withIdentityStore(name, (store) =>
        store('readwrite', (s) => {
          if (identity) s.put(identityRecord(identity), 'identity')
          else s.delete('identity')
          return promisifyRequest(s.transaction)
        }),
      ),
  }
}

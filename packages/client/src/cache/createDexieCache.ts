import { CubbyError } from '@cubby/protocol'
import { type Collection, Dexie, type Table } from 'dexie'
import {
  type CacheSnapshot,
  type CacheWrite,
  type CachedEntry,
  type CubbyCache,
  type CubbyCacheProvider,
  type CubbyIdentity,
  type OutboxEntry,
  compareOutbox,
  confirmedPartApplies,
  identityRecord,
} from './CubbyCache.js'

/**
 * Cubby's tables, to spread into an app's own Dexie schema. Every row carries the Cubby `name` and the `user`,
 * so several users (and Cubby instances) share the tables without seeing each other's rows.
 *
 * @example
 * ```ts
 * db.version(3).stores({ todos: '++id', ...cubbyDexieTables })
 * ```
 */
export const cubbyDexieTables: Readonly<Record<'cubby_entries' | 'cubby_outbox' | 'cubby_meta', string>> = Object.freeze({
  cubby_entries: '[name+user+key]',
  cubby_outbox: '[name+user+clientId+mid]',
  cubby_meta: '[name+user+id]',
})

/** Options of {@link createDexieCache}. */
export interface DexieCacheOptions {
  /** An open-able Dexie database whose schema includes {@link cubbyDexieTables}. @default a database of Cubby's own, `cubby-dexie:<name>` */
  db?: Dexie
  /** Namespaces Cubby's rows (and its own database). @default 'default' */
  name?: string
}

interface Tables {
  entries: Table
  outbox: Table
  meta: Table
}

const tablesOf = (db: Dexie): Tables => ({ entries: db.table('cubby_entries'), outbox: db.table('cubby_outbox'), meta: db.table('cubby_meta') })

function ownDatabase(name: string): Dexie {
  // Read the factory now rather than at import, so that a page (or a test) may install one late.
  const { indexedDB, IDBKeyRange } = globalThis
  const db = new Dexie(`cubby-dexie:${name}`, indexedDB ? { indexedDB, IDBKeyRange } : {})
  db.version(1).stores(cubbyDexieTables)
  return db
}

class DexieCache implements CubbyCache {
  readonly persistent = true
  readonly #db: Dexie
  readonly #own: boolean
  readonly #scope: [string, string]

  constructor(db: Dexie, own: boolean, scope: [string, string]) {
    this.#db = db
    this.#own = own
    this.#scope = scope
  }

  async load(): Promise<CacheSnapshot> {
    const t = tablesOf(this.#db)
    return this.#db.transaction('r', [t.entries, t.outbox, t.meta], async () => {
      const [entries, outbox, cursor, marker, clock] = await Promise.all([
        this.#range(t.entries, 'key').toArray() as Promise<CachedEntry[]>,
        this.#range(t.outbox, 'clientId+mid').toArray() as Promise<OutboxEntry[]>,
        t.meta.get([...this.#scope, 'cursor']) as Promise<{ value: number } | undefined>,
        t.meta.get([...this.#scope, 'marker']) as Promise<{ value: string } | undefined>,
        t.meta.get([...this.#scope, 'clock']) as Promise<{ value: number } | undefined>,
      ])
      const snapshot: CacheSnapshot = {
        ...(clock !== undefined && { clockOffset: clock.value }),
        entries: entries.map(({ key, rev, value, expiresAt }) => (expiresAt === undefined ? { key, rev, value } : { key, rev, value, expiresAt })),
        outbox: outbox.map(({ seq, clientId, mutation }) => ({ seq, clientId, mutation })).sort(compareOutbox),
        cursor: cursor?.value ?? 0,
      }
      if (marker) snapshot.marker = marker.value
      return snapshot
    })
  }

  async write(batch: CacheWrite): Promise<void> {
    const t = tablesOf(this.#db)
    const [name, user] = this.#scope
    await this.#db.transaction('rw', [t.entries, t.outbox, t.meta], async () => {
      if (batch.expectMarker !== undefined && ((await t.meta.get([name, user, 'marker'])) as { value: string } | undefined)?.value !== batch.expectMarker) {
        throw new CubbyError('CACHE_EVICTED', 'The database was deleted under the client')
      }
      if (batch.outboxPut?.length) {
        await t.outbox.bulkPut(batch.outboxPut.map((e) => ({ name, user, mid: e.mutation.mid, ...e })))
      }
      if (batch.outboxDelete?.length) await t.outbox.bulkDelete(batch.outboxDelete.map((r) => [name, user, r.clientId, r.mid]))
      if (batch.marker !== undefined && !(await t.meta.get([name, user, 'marker']))) await t.meta.put({ name, user, id: 'marker', value: batch.marker })
      if (batch.clockOffset !== undefined) await t.meta.put({ name, user, id: 'clock', value: batch.clockOffset })
      // Another tab may have written newer server data since this one read it: compare in the transaction.
      const stored = (await t.meta.get([name, user, 'cursor'])) as { value: number } | undefined
      if (!confirmedPartApplies(batch, stored?.value)) return
      if (batch.clearEntries) await this.#range(t.entries, 'key').delete()
      if (batch.deleteEntries?.length) await t.entries.bulkDelete(batch.deleteEntries.map((key) => [name, user, key]))
      if (batch.putEntries?.length) await t.entries.bulkPut(batch.putEntries.map((e) => ({ name, user, ...e })))
      // A reset to 0 deletes the cursor rather than writing one: a write that only frees space, which a full disk takes.
      if (batch.reset && batch.cursor === 0) await t.meta.delete([name, user, 'cursor'])
      else if (batch.cursor !== undefined) await t.meta.put({ name, user, id: 'cursor', value: batch.cursor })
    })
  }

  async destroy(): Promise<void> {
    const t = tablesOf(this.#db)
    await this.#db.transaction('rw', [t.entries, t.outbox, t.meta], () =>
      Promise.all([this.#range(t.entries, 'key').delete(), this.#range(t.outbox, 'clientId+mid').delete(), this.#range(t.meta, 'id').delete()]),
    )
    await this.close()
  }

  async close(): Promise<void> {
    // An app's database is the app's to close.
    if (this.#own) this.#db.close()
  }

  /** Every row of this (name, user) in a table. */
  #range(table: Table, rest: 'key' | 'clientId+mid' | 'id'): Collection {
    // An untyped table's where() types its range as Collection<any, any>.
    return table.where(`[name+user+${rest}]`).between([...this.#scope, Dexie.minKey], [...this.#scope, Dexie.maxKey]) as Collection
  }
}

// The identity row belongs to no user: '' is never a valid user id.
const identityKey = (name: string): [string, string, string] => [name, '', 'identity']

/**
 * Creates a cache in Dexie: Cubby's tables inside an app's existing Dexie database (so that the app can query
 * and `liveQuery` them), or in a database of its own. Import it from `@cubby/client/dexie`, which keeps Dexie
 * out of the main bundle.
 *
 * @returns A provider of persistent caches.
 * @example
 * ```ts
 * import { createDexieCache, cubbyDexieTables } from '@cubby/client/dexie'
 * const db = new Dexie('my-app')
 * db.version(1).stores({ notes: '++id', ...cubbyDexieTables })
 * const cubby = createCubby({ url, cache: createDexieCache({ db }) })
 * ```
 */
export function createDexieCache(options: DexieCacheOptions = {}): CubbyCacheProvider {
  const name = options.name ?? 'default'
  const withDb = async <T>(run: (db: Dexie) => Promise<T>): Promise<T> => {
    if (options.db) return run(options.db)
    const db = ownDatabase(name)
    try {
      return await run(db)
    } finally {
      db.close()
    }
  }
  return {
    kind: 'dexie',
    async open(userId) {
      const db = options.db ?? ownDatabase(name)
      await db.open()
      return new DexieCache(db, !options.db, [name, userId])
    },
    loadIdentity: () => withDb(async (db) => ((await tablesOf(db).meta.get(identityKey(name))) as { value: CubbyIdentity } | undefined)?.value),
    saveIdentity: (identity) =>
      withDb(async (db) => {
        const [, user, id] = identityKey(name)
        if (identity) await tablesOf(db).meta.put({ name, user, id, value: identityRecord(identity) })
        else await tablesOf(db).meta.delete(identityKey(name))
      }),
  }
}

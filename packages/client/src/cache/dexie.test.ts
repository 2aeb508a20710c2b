import 'fake-indexeddb/auto'
import { Dexie, liveQuery } from 'dexie'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { runCacheContract } from './cache.contract.js'
import { createDexieCache, cubbyDexieTables } from './createDexieCache.js'

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
})

const appDatabase = (): Dexie => {
  const db = new Dexie('app', { indexedDB: globalThis.indexedDB, IDBKeyRange })
  db.version(1).stores({ notes: '++id', ...cubbyDexieTables })
  return db
}

runCacheContract('dexie (own database)', () => createDexieCache({ name: 'contract' }))
runCacheContract('dexie (app database)', () => createDexieCache({ db: appDatabase() }))

describe('dexie cache in an app database', () => {
  it('lets a liveQuery over cubby_entries see a write', async () => {
    const db = appDatabase()
    const cache = await createDexieCache({ db }).open('alice')
    const seen: unknown[][] = []
    const subscription = liveQuery(() => db.table<{ key: string }>('cubby_entries').toArray()).subscribe((rows) => seen.push(rows.map((r) => r.key)))
    await vi.waitFor(() => expect(seen).toEqual([[]]))
    await cache.write({ putEntries: [{ key: 'theme', rev: 1, value: '"dark"' }], cursor: 1 })
    await vi.waitFor(() => expect(seen.at(-1)).toEqual(['theme']))
    subscription.unsubscribe()
    db.close()
  })

  it('keeps Cubby rows of two names apart in one database', async () => {
    const db = appDatabase()
    const a = await createDexieCache({ db, name: 'a' }).open('alice')
    const b = await createDexieCache({ db, name: 'b' }).open('alice')
    await a.write({ putEntries: [{ key: 'k', rev: 1, value: '1' }], cursor: 1 })
    expect(await b.load()).toEqual({ entries: [], outbox: [], cursor: 0 })
    db.close()
  })
})

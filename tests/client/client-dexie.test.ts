// Before dexie: Dexie looks for IndexedDB when it is imported, and liveQuery needs it found.
import 'fake-indexeddb/auto'
import { createDexieCache, cubbyDexieTables } from '@cubby/client/dexie'
import { Dexie, liveQuery } from 'dexie'
import { IDBKeyRange } from 'fake-indexeddb'
import { connectTestClient, startTestServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

describe('client with the Dexie cache', () => {
  it('keeps its rows in the app database, where a liveQuery sees a remote change', async () => {
    await using server = await startTestServer()
    const token = server.token('quinn')
    const db = new Dexie('client-dexie-app', { indexedDB, IDBKeyRange })
    db.version(1).stores({ notes: '++id', ...cubbyDexieTables })
    await using mine = connectTestClient(server.url, { auth: token, cache: createDexieCache({ db }) })
    await using other = connectTestClient(server.url, { auth: token })
    await Promise.all([mine.ready(), other.ready()])
    expect(mine.persistent).toBe(true)

    const keys: string[][] = []
    const subscription = liveQuery(() => db.table('cubby_entries').toArray()).subscribe((rows) => {
      keys.push(rows.map((r: { key: string }) => r.key))
    })
    await vi.waitFor(() => expect(keys).toEqual([[]]))
    await other.store('from-other-device', { n: 1 })
    await vi.waitFor(() => expect(keys.at(-1)).toEqual(['from-other-device']))
    subscription.unsubscribe()
    expect(await mine.get('from-other-device')).toEqual({ n: 1 })
    await mine.close()
    db.close()
  })
})

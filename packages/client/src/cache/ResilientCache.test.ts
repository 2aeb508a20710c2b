import { offlineToken } from '@cubby/test-utils/clients'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { CubbyErrorDetail } from '../CubbyEventMap.js'
import { createCubby } from '../createCubby.js'
import type { CubbyCacheProvider } from './CubbyCache.js'
import { createDexieCache } from './createDexieCache.js'
import { createIdbCache } from './createIdbCache.js'
import { type FlakyControl, flakyIndexedDB } from './flakyIndexedDB.fixture.js'

// Each test gets a fresh IndexedDB whose failures it controls; both IndexedDB caches share the failure handling.
let control: FlakyControl
let factory: IDBFactory
beforeEach(() => {
  ;({ factory, control } = flakyIndexedDB())
  globalThis.indexedDB = factory
})

const caches: Array<[string, () => CubbyCacheProvider]> = [
  ['idb-keyval', () => createIdbCache({ name: 'app' })],
  ['dexie', () => createDexieCache({ name: 'app' })],
]
const idbName = `cubby:${JSON.stringify(['app', 'alice'])}`

const start = (provider: CubbyCacheProvider) => {
  const cubby = createCubby({ url: 'http://127.0.0.1:9', auth: offlineToken('alice'), connect: false, cache: provider, name: 'app' })
  const errors: CubbyErrorDetail[] = []
  cubby.addEventListener('error', (e) => void errors.push(e.detail))
  return { cubby, errors }
}

/** What a new page load would find on disk. */
const onDisk = async (provider: CubbyCacheProvider) => {
  const cache = await provider.open('alice')
  const snapshot = await cache.load()
  await cache.close()
  return snapshot
}
const keysOf = (outbox: Array<{ mutation: { op: string; key?: string } }>) => outbox.map((e) => e.mutation.key)

/** Confirmed values, as if a server had sent them before this page load. */
const seedConfirmed = async (provider: CubbyCacheProvider, count: number, bytes: number) => {
  const cache = await provider.open('alice')
  const putEntries = Array.from({ length: count }, (_, i) => ({ key: `server-${i}`, rev: i + 1, value: JSON.stringify('s'.repeat(bytes)) }))
  await cache.write({ putEntries, cursor: count })
  await cache.close()
}

describe.each(caches)('storage failures (%s)', (_, makeProvider) => {
  it('reopens a connection closed under it during a write burst, losing no write and keeping their order', async () => {
    const provider = makeProvider()
    const { cubby, errors } = start(provider)
    await cubby.store('before', 0)
    const burst: Promise<void>[] = []
    for (let i = 0; i < 40; i++) {
      burst.push(cubby.store(`k${i}`, i))
      if (i === 10) control.closeAll()
      if (i === 20) control.failTransactions(2)
      if (i % 7 === 0) await Promise.resolve()
    }
    await Promise.all(burst)
    expect(cubby.stats().storage).toMatchObject({ memoryOnly: false })
    // Dexie reopens a connection closed under it by itself; idb-keyval's is reopened here.
    if (provider.kind === 'indexeddb') {
      expect(cubby.stats().storage.reopens).toBeGreaterThanOrEqual(2)
      expect(cubby.stats().storage.failures.closed).toBeGreaterThanOrEqual(2)
    }
    expect(cubby.persistent).toBe(true)
    expect(errors).toEqual([])
    await cubby.close()
    const disk = await onDisk(makeProvider())
    expect(keysOf(disk.outbox)).toEqual(['before', ...Array.from({ length: 40 }, (_, i) => `k${i}`)])
  })

  it('falls back to memory after a bounded number of reopens, and says so', async () => {
    const { cubby, errors } = start(makeProvider())
    await cubby.store('a', 1)
    const statuses: boolean[] = []
    cubby.addEventListener('status', (e) => void statuses.push(e.detail.persistent))
    control.failTransactions(1_000)
    await cubby.store('b', 2)
    expect(errors.map((e) => e.error.code)).toEqual(['CACHE_UNAVAILABLE'])
    expect(cubby.persistent).toBe(false)
    expect(statuses).toEqual([false])
    expect(cubby.stats().storage).toMatchObject({ memoryOnly: true, reopens: 5 })
    await cubby.store('c', 3)
    expect(await cubby.getMany(['a', 'b', 'c'])).toEqual([1, 2, 3])
    expect(cubby.pendingCount).toBe(3)
    await cubby.close()
  })

  it('rebuilds a database deleted under the running client from memory, losing no pending write', async () => {
    const provider = makeProvider()
    await seedConfirmed(provider, 3, 10)
    const { cubby, errors } = start(provider)
    await cubby.storeMany([['a', 1], ['b', 2]])
    const name = provider.kind === 'dexie' ? 'cubby-dexie:app' : idbName
    await new Promise((resolve, reject) => Object.assign(factory.deleteDatabase(name), { onsuccess: resolve, onerror: reject }))
    await cubby.store('c', 3)
    expect(errors.map((e) => [e.error.code, e.lostWrites])).toEqual([['CACHE_EVICTED', 0]])
    expect(cubby.stats().storage).toMatchObject({ evictions: 1, lostWrites: 0, failures: { evicted: 1 } })
    await cubby.close()
    const disk = await onDisk(makeProvider())
    expect(keysOf(disk.outbox)).toEqual(['a', 'b', 'c'])
    expect(disk.entries.map((e) => e.key).sort()).toEqual(['server-0', 'server-1', 'server-2'])
    expect(disk.cursor).toBe(3)
  })
})

describe('a database deleted under two running clients', () => {
  it.each(caches)('is rebuilt once by each, without them taking turns finding it evicted (%s)', async (_, makeProvider) => {
    const [a, b] = [start(makeProvider()), start(makeProvider())]
    await a.cubby.store('a0', 0)
    await b.cubby.store('b0', 0)
    const name = makeProvider().kind === 'dexie' ? 'cubby-dexie:app' : idbName
    await new Promise((resolve, reject) => Object.assign(factory.deleteDatabase(name), { onsuccess: resolve, onerror: reject }))
    for (let i = 1; i <= 5; i++) {
      await a.cubby.store(`a${i}`, i)
      await b.cubby.store(`b${i}`, i)
    }
    for (const { cubby, errors } of [a, b]) {
      expect(errors.map((e) => e.error.code)).toEqual(['CACHE_EVICTED'])
      expect(cubby.stats().storage.evictions).toBe(1)
      await cubby.close()
    }
    const outbox = keysOf((await onDisk(makeProvider())).outbox)
    expect(outbox.sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'b0', 'b1', 'b2', 'b3', 'b4', 'b5'])
  })
})

describe('a database of the same name from another schema', () => {
  it('is started over instead of failing every write', async () => {
    await new Promise((resolve, reject) => {
      const request = factory.open(idbName, 3)
      request.onupgradeneeded = () => request.result.createObjectStore('something-else')
      request.onsuccess = () => resolve(request.result.close())
      request.onerror = () => reject(request.error ?? new Error('open failed'))
    })
    const { cubby, errors } = start(createIdbCache({ name: 'app' }))
    await cubby.store('a', 1)
    expect(errors).toEqual([])
    expect(cubby.persistent).toBe(true)
    await cubby.close()
    expect(keysOf((await onDisk(createIdbCache({ name: 'app' }))).outbox)).toEqual(['a'])
  })
})

describe('a database evicted between page loads', () => {
  // Node has no localStorage; the browser's keeps this record when only IndexedDB is cleared.
  const items = new Map<string, string>()
  beforeEach(() => {
    items.clear()
    vi.stubGlobal('localStorage', { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => items.set(k, v), removeItem: (k: string) => items.delete(k) })
  })
  afterEach(() => vi.unstubAllGlobals())

  it.each(caches)('reports exactly the pending writes lost with it (%s)', async (_, makeProvider) => {
    const first = start(makeProvider())
    await first.cubby.storeMany([['a', 1], ['b', 2], ['c', 3]])
    await first.cubby.close()
    // A new page load finds the database there: nothing to report.
    const second = start(makeProvider())
    await second.cubby.store('d', 4)
    await second.cubby.close()
    expect(second.errors).toEqual([])
    globalThis.indexedDB = new (factory.constructor as typeof IDBFactory)()
    const third = start(makeProvider())
    await third.cubby.list()
    await vi.waitFor(() => expect(third.errors.map((e) => [e.error.code, e.lostWrites])).toEqual([['CACHE_EVICTED', 4]]))
    expect(third.cubby.stats().storage).toMatchObject({ evictions: 1, lostWrites: 4 })
    expect(await third.cubby.list()).toEqual([])
    await third.cubby.close()
  })
})

describe('a spent quota', () => {
  const fill = async (cubby: ReturnType<typeof start>['cubby'], count: number) => {
    for (let i = 0; i < count; i++) await cubby.store(`w${i}`, 'v'.repeat(20))
  }

  it('evicts cached server values, keeps every pending write, and writes all of it again once there is room', async () => {
    const provider = createIdbCache({ name: 'app' })
    await seedConfirmed(provider, 10, 500)
    const { cubby, errors } = start(provider)
    await cubby.get('server-0')
    control.quotaBytes = control.usedBytes + 400
    await fill(cubby, 12)
    expect(errors.map((e) => e.error.code)).toEqual(['CACHE_FULL'])
    expect(cubby.stats().storage).toMatchObject({ full: true, unpersisted: 0, failures: { quota: 1 } })
    // Reads keep working from memory; the disk holds the outbox and no cached value (a reload catches up from 0).
    expect(await cubby.get('server-9')).toBe('s'.repeat(500))
    const evicted = await onDisk(provider)
    expect(evicted.entries).toEqual([])
    expect(evicted.cursor).toBe(0)
    expect(keysOf(evicted.outbox)).toEqual(Array.from({ length: 12 }, (_, i) => `w${i}`))
    control.quotaBytes = Number.POSITIVE_INFINITY
    await vi.waitFor(() => expect(cubby.stats().storage.full).toBe(false), { timeout: 5_000 })
    const restored = await onDisk(provider)
    expect(restored.entries).toHaveLength(10)
    expect(restored.cursor).toBe(10)
    expect(restored.outbox).toHaveLength(12)
    await cubby.close()
  })

  it('keeps pending writes in memory when not even the outbox fits, and persists them in order once it does', async () => {
    const provider = createIdbCache({ name: 'app' })
    const { cubby, errors } = start(provider)
    await cubby.store('first', 1)
    control.quotaBytes = control.usedBytes + 50
    await fill(cubby, 8)
    expect(errors.map((e) => e.error.code)).toEqual(['CACHE_FULL'])
    expect(cubby.stats().storage.unpersisted).toBeGreaterThan(0)
    expect(cubby.pendingCount).toBe(9)
    expect(await cubby.get('w7')).toBe('v'.repeat(20))
    control.quotaBytes = Number.POSITIVE_INFINITY
    await vi.waitFor(() => expect(cubby.stats().storage).toMatchObject({ full: false, unpersisted: 0 }), { timeout: 5_000 })
    await cubby.close()
    expect(keysOf((await onDisk(provider)).outbox)).toEqual(['first', ...Array.from({ length: 8 }, (_, i) => `w${i}`)])
  })

  it('still rejects a write that cannot be stored at all, rolling it back', async () => {
    const { cubby } = start(createIdbCache({ name: 'app' }))
    await cubby.store('a', 1)
    control.failTransactions(1, 'DataError')
    await expect(cubby.store('b', 2)).rejects.toMatchObject({ code: 'STORAGE_ERROR' })
    expect(await cubby.get('b')).toBeUndefined()
    expect(cubby.stats().storage.failures).toMatchObject({ closed: 0, unknown: 0, other: 1 })
    await cubby.close()
  })
})

import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { offlineToken } from '@cubby/test-utils/clients'
import { beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { WebSocket } from 'ws'
import type { CubbyCacheProvider } from './cache/CubbyCache.js'
import { countingProvider } from './cache/countingProvider.fixture.js'
import { createMemoryCache } from './cache/createMemoryCache.js'
import { createCubby } from './createCubby.js'
import type { CubbyOptions } from './CubbyOptions.js'

// No server in these tests: the client works offline (connect: false) against a local cache.
const offline = (options: { [K in keyof CubbyOptions]?: CubbyOptions[K] | undefined } = {}) =>
  createCubby({ url: 'http://127.0.0.1:9', auth: offlineToken('alice'), connect: false, cache: 'memory', ...options } as CubbyOptions)

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
})

describe('Cubby offline', () => {
  it('reports to a listener added after events of its type went unheard, and to once and subscribe listeners', async () => {
    await using cubby = offline()
    await cubby.store('unheard', 1)
    const pending: unknown[] = []
    const changes: string[][] = []
    const once: string[][] = []
    cubby.addEventListener('pending', (e) => void pending.push(e.detail))
    cubby.addEventListener('change', (e) => void once.push(e.detail.keys), { once: true })
    const unsubscribe = cubby.subscribe(({ keys }) => void changes.push(keys))
    await cubby.store('heard', 2)
    await cubby.store('again', 3)
    unsubscribe()
    await cubby.store('after', 4)
    expect(pending).toEqual([{ keys: ['heard'], count: 2 }, { keys: ['again'], count: 3 }, { keys: ['after'], count: 4 }])
    expect(changes).toEqual([['heard'], ['again']])
    expect(once).toEqual([['heard']])
  })

  it('stores and reads from memory, announcing local changes synchronously', async () => {
    await using cubby = offline()
    const seen: unknown[] = []
    cubby.addEventListener('change', (e) => void seen.push(e.detail))
    await cubby.get('warm-up')
    const stored = cubby.store('theme', 'dark')
    expect(seen).toEqual([{ keys: ['theme'], changes: [{ key: 'theme', value: 'dark' }], origin: 'local' }])
    expect(cubby.getSnapshot('theme')).toBe('dark')
    expect(cubby.isPending('theme')).toBe(true)
    await stored
    expect(await cubby.get('theme')).toBe('dark')
    expect(cubby.userId).toBe('alice')
    await cubby.storeMany([['b', 2], ['a', 1]])
    expect(await cubby.list()).toEqual(['a', 'b', 'theme'])
    expect(await cubby.entries({ limit: 2 })).toEqual([['a', 1], ['b', 2]])
    expect(await cubby.getMany(['a', 'nope'])).toEqual([1, undefined])
    await cubby.delete('a')
    await cubby.deleteMany(['b'])
    expect(await cubby.list()).toEqual(['theme'])
    await cubby.clear()
    expect(await cubby.list()).toEqual([])
    expect(cubby.pendingCount).toBe(6)
  })

  it('keeps a private copy of a stored value', async () => {
    await using cubby = offline()
    const cart = [{ sku: 'A1', qty: 1 }]
    const stored = cubby.store('cart', cart)
    cart[0]!.qty = 99
    await stored
    expect(await cubby.get('cart')).toEqual([{ sku: 'A1', qty: 1 }])
  })

  it('rejects bad keys and values with their codes, and writes nothing', async () => {
    await using cubby = offline({ limits: { maxValueBytes: 10 } })
    await expect(cubby.store(1 as unknown as string, 1)).rejects.toBeInstanceOf(TypeError)
    await expect(cubby.store('', 1)).rejects.toMatchObject({ name: 'CubbyError', code: 'INVALID_KEY' })
    await expect(cubby.store('x'.repeat(1025), 1)).rejects.toMatchObject({ code: 'INVALID_KEY' })
    await expect(cubby.store('fn', { onClick: () => 1 })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(cubby.store('sym', Symbol('s'))).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(cubby.store('big', 'x'.repeat(20))).rejects.toMatchObject({ code: 'VALUE_TOO_LARGE' })
    await expect(cubby.store('u', undefined)).rejects.toMatchObject({ code: 'INVALID_VALUE', message: expect.stringMatching(/delete\(\)/) })
    await expect(cubby.storeMany([['ok', 1], ['u', undefined]])).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(cubby.storeMany([['ok', 1], ['', 2]])).rejects.toMatchObject({ code: 'INVALID_KEY' })
    await expect(cubby.get('')).rejects.toMatchObject({ code: 'INVALID_KEY' })
    expect(await cubby.list()).toEqual([])
    expect(cubby.pendingCount).toBe(0)
  })

  it('keeps undefined inside a value: only a value that is undefined itself is refused', async () => {
    await using cubby = offline()
    await cubby.store('k', { a: undefined, list: [undefined] })
    expect(await cubby.get('k')).toStrictEqual({ a: undefined, list: [undefined] })
  })

  it('writes 10,000 concurrent stores in a few cache transactions', async () => {
    const { provider, log } = countingProvider(createMemoryCache())
    await using cubby = offline({ cache: provider })
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => cubby.store(`k${i}`, i)))
    expect(log.writes.length).toBeLessThanOrEqual(2)
    expect(cubby.pendingCount).toBe(10_000)
    expect(await cubby.get('k9999')).toBe(9999)
  })

  it('rolls a write back and rejects with STORAGE_ERROR when the cache fails', async () => {
    const { provider, log } = countingProvider(createMemoryCache())
    await using cubby = offline({ cache: provider })
    await cubby.store('k', 'old')
    const seen: unknown[] = []
    cubby.addEventListener('change', (e) => void seen.push(e.detail.changes))
    log.failNext(1)
    await expect(cubby.store('k', 'new')).rejects.toMatchObject({ code: 'STORAGE_ERROR' })
    expect(await cubby.get('k')).toBe('old')
    expect(seen).toEqual([[{ key: 'k', value: 'new' }], [{ key: 'k', value: 'old' }]])
    expect(cubby.pendingCount).toBe(1)
  })

  it('keeps values and pending writes across a reload', async () => {
    const provider = createMemoryCache()
    {
      await using tab = offline({ cache: provider })
      await tab.store('draft', { title: 'offline' })
      await tab.store('n', 1)
    }
    await using reloaded = offline({ cache: provider })
    expect(await reloaded.get('draft')).toEqual({ title: 'offline' })
    expect(reloaded.isPending('n')).toBe(true)
    expect(reloaded.pendingCount).toBe(2)
  })

  it('rejects ready, synced and every operation with CLOSED once closed', async () => {
    const cubby = offline()
    await cubby.store('k', 1)
    const ready = cubby.ready()
    const synced = cubby.synced()
    await cubby.close()
    await expect(ready).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(synced).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(cubby.get('k')).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(cubby.store('k', 2)).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(cubby.synced()).rejects.toMatchObject({ code: 'CLOSED' })
    expect(cubby.status).toBe('offline')
  })

  it('calls subscribers on change until they unsubscribe', async () => {
    await using cubby = offline()
    const keys: string[][] = []
    const unsubscribe = cubby.subscribe((detail) => keys.push(detail.keys))
    await cubby.store('a', 1)
    unsubscribe()
    await cubby.store('b', 1)
    expect(keys).toEqual([['a']])
  })
})

describe('Cubby storage', () => {
  it('persists in IndexedDB by default and says so in a status event', async () => {
    const statuses: unknown[] = []
    {
      await using cubby = offline({ cache: undefined, name: 'app' })
      cubby.addEventListener('status', (e) => void statuses.push(e.detail))
      await cubby.store('k', 1)
      expect(cubby.persistent).toBe(true)
    }
    expect(statuses[0]).toEqual({ status: 'offline', persistent: true })
    await using reloaded = offline({ cache: undefined, name: 'app' })
    expect(await reloaded.get('k')).toBe(1)
    await using otherApp = offline({ cache: undefined, name: 'other-app' })
    expect(await otherApp.get('k')).toBeUndefined()
  })

  it('falls back to memory when IndexedDB cannot be opened', async () => {
    const broken = { open: () => { throw new DOMException('The user denied permission', 'SecurityError') } }
    globalThis.indexedDB = broken as unknown as IDBFactory
    await using cubby = offline({ cache: 'indexeddb' })
    const statuses: unknown[] = []
    cubby.addEventListener('status', (e) => void statuses.push(e.detail))
    await cubby.store('k', 1)
    expect(cubby.persistent).toBe(false)
    expect(statuses).toEqual([{ status: 'offline', persistent: false }])
  })

  it('does not fall back from a provider the app chose; the load fails with STORAGE_ERROR', async () => {
    const failing: CubbyCacheProvider = { ...createMemoryCache(), open: () => Promise.reject(new Error('nope')) }
    await using cubby = offline({ cache: failing })
    const errors: string[] = []
    cubby.addEventListener('error', (e) => void errors.push(e.detail.error.code))
    await expect(cubby.ready()).rejects.toMatchObject({ code: 'STORAGE_ERROR' })
    await expect(cubby.get('k')).rejects.toMatchObject({ code: 'STORAGE_ERROR' })
    expect(errors).toEqual(['STORAGE_ERROR'])
  })
})

describe('Cubby identity', () => {
  it('needs userId for a token that is not a JWT', async () => {
    await using bad = offline({ auth: 'opaque' })
    await expect(bad.ready()).rejects.toMatchObject({ code: 'INVALID_USER_ID' })
    await using good = offline({ auth: 'opaque', userId: 'bob' })
    await good.store('k', 1)
    expect(good.userId).toBe('bob')
  })

  it('keeps each user in a database of its own', async () => {
    const provider = createMemoryCache()
    {
      await using alice = offline({ cache: provider })
      await alice.store('k', 'alice')
    }
    {
      await using bob = offline({ cache: provider, auth: async () => offlineToken('bob') })
      expect(await bob.get('k')).toBeUndefined()
      await bob.store('k', 'bob')
    }
    // Both values were kept, each in its user's own database: neither overwrote nor hid the other.
    await using alice = offline({ cache: provider })
    expect(await alice.get('k')).toBe('alice')
    await using bob = offline({ cache: provider, auth: async () => offlineToken('bob') })
    expect(await bob.get('k')).toBe('bob')
  })

  it('uses the stored anonymous identity', async () => {
    const provider = createMemoryCache()
    await provider.saveIdentity({ userId: 'anon_1', token: 'stored' })
    await using cubby = offline({ cache: provider, auth: undefined })
    await cubby.get('k')
    expect(cubby.userId).toBe('anon_1')
  })

  it('makes a device identity at first start with no network, keeps it, and works at once', async () => {
    const provider = createMemoryCache()
    const fetch = vi.fn(() => Promise.reject(new TypeError('Failed to fetch')))
    await using cubby = offline({ cache: provider, auth: undefined, fetch })
    await cubby.store('k', 1)
    expect(await cubby.get('k')).toBe(1)
    expect(cubby.userId).toMatch(/^anon_key_[\w-]{43}$/)
    expect(await provider.loadIdentity()).toMatchObject({ userId: cubby.userId, privateKey: { extractable: false } })
    expect(fetch).not.toHaveBeenCalled()
  })

  it('without WebCrypto (an insecure context), reports a failed identity request as an error event and retries', async () => {
    // What a page on plain http from another host than localhost has: getRandomValues, no subtle, no randomUUID.
    const real = globalThis.crypto
    vi.stubGlobal('crypto', { getRandomValues: real.getRandomValues.bind(real) })
    onTestFinished(() => void vi.unstubAllGlobals())
    const fetch = vi.fn(() => Promise.reject(new TypeError('Failed to fetch')))
    await using cubby = offline({ auth: undefined, connect: true, fetch, WebSocket: WebSocket as never, reconnect: { minDelayMs: 1, maxDelayMs: 5 } })
    const errors: string[] = []
    cubby.addEventListener('error', (e) => void errors.push(e.detail.error.code))
    await vi.waitFor(() => expect(fetch.mock.calls.length).toBeGreaterThan(2))
    expect(errors).toEqual(['NETWORK'])
    expect(cubby.status).toBe('offline')
    expect(cubby.userId).toBeUndefined()
  })
})

describe('Cubby signOut', () => {
  it('refuses to drop pending writes unless told to, then deletes the local data and identity', async () => {
    const provider = createMemoryCache()
    await provider.saveIdentity({ userId: 'anon_1', token: 't' })
    const cubby = offline({ cache: provider, auth: undefined })
    await cubby.store('k', 1)
    await expect(cubby.signOut({ timeoutMs: 10 })).rejects.toMatchObject({ code: 'PENDING_WRITES' })
    await cubby.signOut({ discardPending: true })
    await expect(cubby.get('k')).rejects.toMatchObject({ code: 'CLOSED' })
    expect(await provider.loadIdentity()).toBeUndefined()
    const data = await (await provider.open('anon_1')).load()
    expect(data).toEqual({ entries: [], outbox: [], cursor: 0 })
  })

  it('deletes the IndexedDB database of the user', async () => {
    const cubby = offline({ cache: undefined, name: 'app' })
    await cubby.store('k', 1)
    await cubby.signOut({ discardPending: true })
    const names = (await indexedDB.databases()).map((d) => d.name)
    expect(names).not.toContain('cubby:["app","alice"]')
  })
})

describe('createCubby', () => {
  it('throws TypeError for a missing URL, or no WebSocket to connect with', () => {
    expect(() => createCubby({} as CubbyOptions)).toThrow(TypeError)
    expect(() => createCubby({ url: 'cubby.example.com' })).toThrow(TypeError)
    const global = globalThis.WebSocket
    try {
      Object.assign(globalThis, { WebSocket: undefined })
      expect(() => createCubby({ url: 'https://cubby.example.com' })).toThrow(/the `WebSocket` option/)
      expect(() => createCubby({ url: 'https://cubby.example.com', connect: false, cache: 'memory' }).close()).not.toThrow()
    } finally {
      Object.assign(globalThis, { WebSocket: global })
    }
  })
  it('refuses a ws(s) URL and a URL ending in /v1, naming the URL to pass instead', () => {
    const opts = { connect: false, cache: 'memory' } as const
    expect(() => createCubby({ url: 'ws://127.0.0.1:8787', ...opts })).toThrow(/pass http:\/\/127\.0\.0\.1:8787/)
    expect(() => createCubby({ url: 'WSS://cubby.example.com/app', ...opts })).toThrow(/pass https:\/\/cubby\.example\.com\/app/)
    for (const url of ['https://cubby.example.com/v1', 'https://cubby.example.com/app/v1/', 'http://h/v1/sync']) {
      expect(() => createCubby({ url, ...opts })).toThrow(TypeError)
      expect(() => createCubby({ url, ...opts })).toThrow(/without \/v1: pass http/)
    }
    expect(() => createCubby({ url: 'https://cubby.example.com/v1x', ...opts }).close()).not.toThrow()
  })
})

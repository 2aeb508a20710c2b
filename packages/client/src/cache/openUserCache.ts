import { CubbyError } from '@cubby/protocol'
import type { CacheSnapshot, CubbyCache, CubbyCacheProvider } from './CubbyCache.js'
import { createIdbCache } from './createIdbCache.js'
import { createMemoryCache } from './createMemoryCache.js'
import { ResilientCache, type StorageEvents } from './ResilientCache.js'
import { type CubbyStorageStats, createStorageStats } from './storageStats.js'

/** A user's cache, open and read. */
export interface OpenedCache {
  provider: CubbyCacheProvider
  cache: CubbyCache
  snapshot: CacheSnapshot
}

/**
 * Runs storage steps against the provider of the `cache` option (`indexeddb` without IndexedDB, in SSR or old
 * browsers, is memory), switching once to memory when the default IndexedDB provider fails (private modes
 * refuse to open databases). A provider the app chose is never replaced: its failure is an error.
 *
 * Not part of the public API; its declaration ships because loadReplica's declaration imports it.
 */
export class StorageGuard {
  provider: CubbyCacheProvider
  /** The storage counters of the client, kept across reopens and caches. */
  readonly stats: CubbyStorageStats = createStorageStats()
  readonly #canFallBack: boolean
  readonly #name: string
  readonly #events: StorageEvents

  constructor(option: 'indexeddb' | 'memory' | CubbyCacheProvider = 'indexeddb', name = 'default', events: StorageEvents = { error() {}, persistence() {} }) {
    this.#canFallBack = option === 'indexeddb'
    this.#name = name
    this.#events = events
    this.provider =
      typeof option === 'object' ? option : option === 'memory' || typeof indexedDB === 'undefined' ? createMemoryCache() : createIdbCache({ name })
  }

  async run<T>(step: (provider: CubbyCacheProvider) => Promise<T>): Promise<T> {
    try {
      return await step(this.provider)
    } catch (cause) {
      if (!this.#canFallBack || this.provider.kind === 'memory') {
        throw new CubbyError('STORAGE_ERROR', `Opening the local cache failed: ${String(cause)}`, { cause })
      }
      this.provider = createMemoryCache()
      return this.run(step)
    }
  }

  /**
   * Opens and loads a user's cache. A persistent one comes wrapped in a {@link ResilientCache}, which reopens it,
   * survives a spent quota and an eviction, and counts its failures in {@link stats}.
   */
  open(userId: string): Promise<OpenedCache> {
    return this.run(async (provider) => {
      if (provider.kind !== 'memory') {
        const id = `cubby-cache:${JSON.stringify([provider.kind, this.#name, userId])}`
        const opened = await ResilientCache.open({ open: () => provider.open(userId), id, stats: this.stats, events: this.#events })
        return { provider, ...opened }
      }
      const cache = await provider.open(userId)
      try {
        return { provider, cache, snapshot: await cache.load() }
      } catch (error) {
        await cache.close().catch(() => {})
        throw error
      }
    })
  }
}

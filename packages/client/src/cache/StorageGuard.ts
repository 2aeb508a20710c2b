import { CubbyError } from '@cubby/protocol/core'
import type { CubbyCacheProvider } from './CubbyCache.js'
import { createIdbCache } from './createIdbCache.js'
import { createMemoryCache } from './createMemoryCache.js'
import type { StorageEvents } from './ResilientCache.js'
import { type CubbyStorageStats, createStorageStats } from './storageStats.js'

/**
 * Runs storage steps against the provider of the `cache` option (`indexeddb` without IndexedDB, in SSR or old
 * browsers, is memory), switching once to memory when the default IndexedDB provider fails (private modes
 * refuse to open databases). A provider the app chose is never replaced: its failure is an error.
 *
 * Not part of the public API; its declaration ships because loadReplica's declaration imports it. Opening a user's
 * cache is {@link openUserCache}, in the chunk that loads with the replica.
 */
export class StorageGuard {
  provider: CubbyCacheProvider
  /** The storage counters of the client, kept across reopens and caches. */
  readonly stats: CubbyStorageStats = createStorageStats()
  readonly #canFallBack: boolean
  /** The `name` option: part of the cache's id. */
  readonly name: string
  /** Where storage failures are reported. */
  readonly events: StorageEvents

  constructor(option: 'indexeddb' | 'memory' | CubbyCacheProvider = 'indexeddb', name = 'default', events: StorageEvents = { error() {}, persistence() {} }) {
    this.#canFallBack = option === 'indexeddb'
    this.name = name
    this.events = events
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
}

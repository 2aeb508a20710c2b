import { CubbyError } from '@cubby/protocol'
import type { CacheSnapshot, CubbyCache, CubbyCacheProvider } from './CubbyCache.js'
import { createIdbCache } from './createIdbCache.js'
import { createMemoryCache } from './createMemoryCache.js'

/** A user's cache, open and read. */
export interface OpenedCache {
  provider: CubbyCacheProvider
  cache: CubbyCache
  snapshot: CacheSnapshot
}

/**
 * Picks the provider for the `cache` option. `indexeddb` without IndexedDB (SSR, old browsers) is memory.
 *
 * @internal
 */
export function cacheProvider(option: 'indexeddb' | 'memory' | CubbyCacheProvider, name: string): CubbyCacheProvider {
  if (typeof option === 'object') return option
  if (option === 'memory' || typeof indexedDB === 'undefined') return createMemoryCache()
  return createIdbCache({ name })
}

/**
 * Runs storage steps against a provider, switching once to memory when the default IndexedDB provider fails
 * (private modes refuse to open databases). A provider the app chose is never replaced: its failure is an error.
 *
 * @internal
 */
export class StorageGuard {
  #provider: CubbyCacheProvider
  readonly #canFallBack: boolean

  constructor(provider: CubbyCacheProvider, canFallBack: boolean) {
    this.#provider = provider
    this.#canFallBack = canFallBack
  }

  get provider(): CubbyCacheProvider {
    return this.#provider
  }

  async run<T>(step: (provider: CubbyCacheProvider) => Promise<T>): Promise<T> {
    try {
      return await step(this.#provider)
    } catch (cause) {
      if (!this.#canFallBack || this.#provider.kind === 'memory') {
        throw new CubbyError('STORAGE_ERROR', `Opening the local cache failed: ${String(cause)}`, { cause })
      }
      this.#provider = createMemoryCache()
      return this.run(step)
    }
  }

  /** Opens and loads a user's cache. */
  open(userId: string): Promise<OpenedCache> {
    return this.run(async (provider) => {
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

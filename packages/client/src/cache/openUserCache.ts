import type { CacheSnapshot, CubbyCache, CubbyCacheProvider } from './CubbyCache.js'
import { ResilientCache } from './ResilientCache.js'
import type { StorageGuard } from './StorageGuard.js'

/** A user's cache, open and read. */
export interface OpenedCache {
  provider: CubbyCacheProvider
  cache: CubbyCache
  snapshot: CacheSnapshot
}

/**
 * Opens and loads a user's cache. A persistent one comes wrapped in a {@link ResilientCache}, which reopens it,
 * survives a spent quota and an eviction, and counts its failures in `storage.stats`.
 */
export function openUserCache(storage: StorageGuard, userId: string): Promise<OpenedCache> {
  return storage.run(async (provider) => {
    if (provider.kind !== 'memory') {
      const id = `cubby-cache:${JSON.stringify([provider.kind, storage.name, userId])}`
      const opened = await ResilientCache.open({ open: () => provider.open(userId), id, stats: storage.stats, events: storage.events })
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

import type { CacheWrite, CubbyCache, CubbyCacheProvider } from './CubbyCache.js'

/** What a {@link countingProvider} saw. */
export interface CacheLog {
  /** Every write (transaction), in order. */
  writes: CacheWrite[]
  /** Make the next write transactions fail with this error. */
  failNext: (count: number, error?: Error) => void
}

/** Wraps a provider to count cache transactions and to make some fail (tests only: not built). */
export function countingProvider(inner: CubbyCacheProvider): { provider: CubbyCacheProvider; log: CacheLog } {
  let failures = 0
  let failure = new Error('disk full')
  const log: CacheLog = {
    writes: [],
    failNext: (count, error = new Error('disk full')) => {
      failures = count
      failure = error
    },
  }
  const wrap = (cache: CubbyCache): CubbyCache => ({
    get persistent() {
      return cache.persistent
    },
    load: () => cache.load(),
    write: async (batch) => {
      log.writes.push(batch)
      if (failures > 0) {
        failures--
        throw failure
      }
      return cache.write(batch)
    },
    destroy: () => cache.destroy(),
    close: () => cache.close(),
  })
  const provider: CubbyCacheProvider = {
    kind: inner.kind,
    open: async (userId) => wrap(await inner.open(userId)),
    loadIdentity: () => inner.loadIdentity(),
    saveIdentity: (identity) => inner.saveIdentity(identity),
  }
  return { provider, log }
}

import type { StorageFailureKind } from './storageFailureKind.js'

/** What the client counts of its local storage, for an app's telemetry (see `cubby.stats()`). */
export interface CubbyStorageStats {
  /** Storage failures since the client started, by kind (each failed attempt counts once). */
  failures: Record<StorageFailureKind, number>
  /** How many times the database was reopened after a failure. */
  reopens: number
  /** How many times the database was found deleted under the client (on open or while running). */
  evictions: number
  /** Pending writes that were lost with an evicted database (they were only on disk, never sent). */
  lostWrites: number
  /** Whether the storage quota is spent now: cached server values are evicted and confirmed data waits in memory. */
  full: boolean
  /** Pending writes held only in memory now, waiting for space on disk (lost if the page closes first). */
  unpersisted: number
  /** Whether the cache gave up on the database and works from memory (`persistent: false`). */
  memoryOnly: boolean
}

/**
 * A fresh set of counters.
 *
 * @internal
 */
export const createStorageStats = (): CubbyStorageStats => ({
  failures: { closed: 0, unknown: 0, quota: 0, evicted: 0, other: 0 },
  reopens: 0,
  evictions: 0,
  lostWrites: 0,
  full: false,
  unpersisted: 0,
  memoryOnly: false,
})

/**
 * The Cubby browser client: a per-user value store with instant reads from memory, an IndexedDB cache, a
 * durable offline outbox and live sync over one WebSocket. The Dexie cache is in `@cubby/client/dexie`,
 * the binding core of @cubby/react, @cubby/vue and @cubby/svelte in `@cubby/client/bindings`.
 * @module
 */

// Client
export { createCubby } from './createCubby.js'
export { Cubby } from './Cubby.js'
export type { CubbyEntry, CubbyKey, CubbyListener, CubbyStats, StoreOptions } from './Cubby.js'
export type { CubbyEntryInfo, CubbyTransaction, CubbyWrite, UpdateOptions, WriteConditionOptions } from './CubbyWrite.js'
export type { CubbyStorage, CubbyStorageEstimate } from './cache/CubbyStorage.js'
export type { CubbyStorageStats } from './cache/storageStats.js'
export type { StorageFailureKind } from './cache/storageFailureKind.js'
export type { CubbyOptions, SignOutOptions } from './CubbyOptions.js'
export type { SignInOptions, SignInResult } from './account/SignInOptions.js'
export type { ListOptions } from './state/KeyIndex.js'
export type { ReconnectOptions } from './sync/backoff.js'
export type { HeartbeatOptions } from './sync/SyncConnection.js'

// Devices
export type { CubbyDevice, CubbyDevices, LinkCode, LinkOptions, RedeemOptions, RedeemResult } from './devices/CubbyDevices.js'

// Events
export type { CubbyChange, CubbyChangeDetail, CubbyErrorDetail, CubbyEventMap, CubbyPendingDetail, CubbyStatus, CubbyStatusDetail, StopReason } from './CubbyEventMap.js'

// Caches
export { createIdbCache } from './cache/createIdbCache.js'
export type { IdbCacheOptions } from './cache/createIdbCache.js'
export { createMemoryCache } from './cache/createMemoryCache.js'
export type {
  CacheSnapshot,
  CacheWrite,
  CachedEntry,
  CubbyCache,
  CubbyCacheProvider,
  CubbyIdentity,
  OutboxEntry,
  OutboxRef,
  SignInMarker,
} from './cache/CubbyCache.js'

// Errors (re-exported so that apps need one import)
export { CubbyError, isCubbyError } from '@cubby/protocol/core'
export type { CubbyErrorCode } from '@cubby/protocol/core'


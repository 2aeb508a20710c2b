/**
 * The Cubby sync server: LevelDB storage, WebSocket sync and an HTTP API, embeddable in an express app.
 * @module
 */

// Storage
export { createLevelStorage } from './storage/createLevelStorage.js'
export type { LevelStorageOptions } from './storage/createLevelStorage.js'
export type {
  CommitOptions, CommitResult, CubbyStorage, ExpiredChanges, StorageListOptions, StorageMetricsHooks, StorageSnapshot, StoredEntry,
} from './storage/CubbyStorage.js'
export { CATCH_UP_PAGE_BYTES } from './storage/CubbyStorage.js'
export { DEFAULT_QUOTA, RECORD_OVERHEAD_BYTES, resolveQuota } from './storage/UserQuota.js'
export { checkCommitArguments } from './storage/checkCommitArguments.js'
export type { UserQuota, UserUsage } from './storage/UserQuota.js'
export type { ImportResult, UserRecord, UserSummary } from './storage/UserRecord.js'
export type { MergeUserOptions, MergeUserResult } from './storage/MergeUser.js'
export type { LevelBatchOperation, LevelDatabase, LevelIterator, LevelIteratorOptions } from './storage/LevelDatabase.js'
export type { AddDeviceResult, DeviceRecord, DeviceRegistry, LinkCodeRecord } from './auth/DeviceRegistry.js'

// Server
export { createCubbyServer } from './createCubbyServer.js'
export type { CubbyServer, ListenOptions, ServerWriteOptions } from './CubbyServer.js'
export type { CubbyServerOptions } from './CubbyServerOptions.js'
export type { ServerListOptions } from './ServerVerbs.js'
export { consoleLogger, createJsonLogger, silentLogger } from './logger.js'

// Several nodes
export type { ChangeBus, ChangeBusListener, UserEvent } from './sync/ChangeBus.js'

// Admin
export { parseUserRecord, parseUserRecords } from './admin/parseUserRecord.js'
export { pruneAnonymousUsers } from './admin/pruneAnonymousUsers.js'
export type { PruneOptions, PruneTarget } from './admin/pruneAnonymousUsers.js'
export { ANONYMOUS_USER_PREFIX, isAnonymousUser } from './auth/anonymousUsers.js'

// Abuse limits
export { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, DEFAULT_MAX_CONNECTIONS_PER_USER, DEFAULT_RATE_LIMITS } from './limits/defaults.js'
export type { RateLimits } from './limits/defaults.js'
export type { RateLimit } from './limits/RateLimiter.js'
export { DEFAULT_ALLOWED_ORIGINS } from './limits/OriginPolicy.js'
export type { CubbyLogger, LogFields } from './logger.js'

// Metrics
export type { CatchUpReason } from './metrics/ServerMetrics.js'

/**
 * The Cubby sync server: LevelDB storage, WebSocket sync and an HTTP API, embeddable in an express app.
 * @module
 */

// Storage
export { createLevelStorage } from './storage/createLevelStorage.js'
export type { LevelStorageOptions } from './storage/createLevelStorage.js'
export type { CommitResult, CubbyStorage, StorageListOptions, StoredEntry } from './storage/CubbyStorage.js'
export type { LevelBatchOperation, LevelDatabase, LevelIterator, LevelIteratorOptions } from './storage/LevelDatabase.js'

// Server
export { createCubbyServer } from './createCubbyServer.js'
export type { CubbyServer, ListenOptions } from './CubbyServer.js'
export type { CubbyServerOptions } from './CubbyServerOptions.js'
export type { ServerListOptions } from './ServerVerbs.js'
export { consoleLogger, silentLogger } from './logger.js'
export type { CubbyLogger } from './logger.js'

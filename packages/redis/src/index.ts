/**
 * Cubby storage on Redis: a single `redis-server`, or a Redis Cluster for more. Pass it to `createCubbyServer`.
 * @module
 */
export { createRedisStorage } from './createRedisStorage.js'
export type { RedisStorage, RedisStorageOptions } from './createRedisStorage.js'
export { SNAPSHOT_TTL_MS } from './redisSnapshot.js'
export { createRedisBus } from './createRedisBus.js'
export type { RedisBusOptions } from './createRedisBus.js'
export { createRedisErrorLog } from './createRedisErrorLog.js'
export type { RedisErrorLogOptions, RedisErrorReporter } from './createRedisErrorLog.js'
export type { RedisClientRole } from './redisMetrics.js'

import { afterAll, beforeAll } from 'vitest'
import { startRedis, type TestRedis } from './startRedis.js'
import { startRedisCluster, type TestRedisCluster } from './startRedisCluster.js'

/** The servers of {@link useSharedRedis}, there from the file's `beforeAll` on. */
export interface SharedRedis {
  /** A single `redis-server`. */
  readonly redis: TestRedis
  /** A Redis Cluster of 3 masters. */
  readonly cluster: TestRedisCluster
}

/**
 * Starts a `redis-server` and a 3-master Redis Cluster in the calling test file's `beforeAll` and stops both in its
 * `afterAll`, so the file's tests share them (each test keeps apart on its own key prefix). Read the servers inside
 * hooks and tests: before `beforeAll` has run, they throw.
 *
 * @returns Getters for the two servers.
 * @example
 * ```ts
 * const servers = useSharedRedis()
 * it('stores', async () => {
 *   const storage = createRedisStorage({ redis: servers.redis.url, prefix: 't1:' })
 * })
 * ```
 */
export function useSharedRedis(): SharedRedis {
  let redis: TestRedis | undefined
  let cluster: TestRedisCluster | undefined
  beforeAll(async () => {
    const [single, clustered] = await Promise.allSettled([startRedis(), startRedisCluster({ masters: 3 })])
    if (single.status === 'fulfilled') redis = single.value
    if (clustered.status === 'fulfilled') cluster = clustered.value
    // The one that started is stopped in afterAll, which runs even when this hook fails.
    for (const result of [single, clustered]) if (result.status === 'rejected') throw result.reason
  })
  afterAll(async () => {
    await Promise.all([redis?.close(), cluster?.close()])
  })
  const started = <T>(server: T | undefined, name: string): T => {
    if (server === undefined) throw new Error(`the shared ${name} starts in beforeAll: read it inside a hook or a test`)
    return server
  }
  return {
    get redis() { return started(redis, 'redis-server') },
    get cluster() { return started(cluster, 'Redis Cluster') },
  }
}

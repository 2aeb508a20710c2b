import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { waitUntil } from './freePort.js'
import { REDIS_CLI, startRedis, type TestRedis } from './startRedis.js'

const run = promisify(execFile)

/** Options of {@link startRedisCluster}. */
export interface TestRedisClusterOptions {
  /** Masters; the 16384 slots are spread over them. @default 3 */
  masters?: number
}

/** A real Redis Cluster of masters without replicas, each a {@link TestRedis}. */
export interface TestRedisCluster extends AsyncDisposable {
  readonly nodes: TestRedis[]
  /** The nodes as ioredis `Cluster` takes them. */
  readonly startupNodes: Array<{ host: string; port: number }>
  /** Stops every node and removes their dirs. */
  close(): Promise<void>
}

/**
 * Starts `masters` cluster-enabled `redis-server`s (see {@link startRedis}), joins them with
 * `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok`.
 *
 * @example
 * ```ts
 * await using cluster = await startRedisCluster({ masters: 3 })
 * const storage = createRedisStorage({ redis: new Cluster(cluster.startupNodes) })
 * ```
 */
export async function startRedisCluster({ masters = 3 }: TestRedisClusterOptions = {}): Promise<TestRedisCluster> {
  const nodes: TestRedis[] = []
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.close()))
  }
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'] }))
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`)
    await run(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 })
    for (const node of nodes) {
      await waitUntil(async () => {
        const info = await node.cli('CLUSTER', 'INFO')
        return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}\r`)
      },
        `cluster node ${node.port} did not reach cluster_state:ok within 30 s`, { timeout: 30_000 })
    }
  } catch (error) {
    await close()
    throw error
  }
  return { nodes, startupNodes: nodes.map((n) => ({ host: n.host, port: n.port })), close, [Symbol.asyncDispose]: close }
}

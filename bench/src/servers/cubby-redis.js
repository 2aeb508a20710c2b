// The Redis deployment: one real redis-server (AOF with appendfsync always, as docs/operations.md asks for)
// and two built cubby-server processes on it, every one on 127.0.0.1 on a free port.
import { randomBytes } from 'node:crypto'
import { trackCleanup } from '../lib/cleanup.js'
import { procStats } from '../lib/proc.js'
import { spawnServer } from '../lib/server.js'
import { freePort, makeTempDir, removeDir } from '../lib/util.js'

/** The rows of the Redis deployment in the results (the system is called `redis` on the command line). */
export const REDIS = 'cubby on redis, 2 nodes'
/** The results' row name of `system`. */
export const rowName = (system) => (system === 'redis' ? REDIS : system)

/**
 * Starts Redis and two `cubby-server --redis` nodes with the same secret. The result looks like one server
 * to the workloads (`url` is node 1, `stats()` sums both nodes and Redis, `restart()` restarts both nodes
 * while Redis keeps its data), plus `url2` (node 2), `nodePids` and `redisPid` for the cost per write.
 */
export async function startCubbyRedis({ cli, secret, nodeArgs = [] }) {
  const { startRedis } = await import('@cubby/test-utils')
  const redis = await startRedis()
  const untrack = trackCleanup(() => redis.close())
  const nodes = []
  const dirs = []
  let redisPid
  const stop = async () => {
    for (const node of nodes) await node.stop()
    for (const dir of dirs) await removeDir(dir)
    await redis.close()
    untrack()
  }
  try {
    redisPid = Number(/process_id:(\d+)/.exec(await redis.cli('INFO', 'server'))?.[1])
    if (!Number.isInteger(redisPid)) throw new Error('redis-server did not report its process_id')
    const env = { CUBBY_SECRET: secret, CUBBY_ADMIN_TOKEN: randomBytes(24).toString('base64url'), CUBBY_REDIS: redis.url }
    for (const n of [1, 2]) {
      // In Redis mode the data dir holds nothing; a temp one keeps the default ./cubby-data out of the checkout.
      const dataDir = await makeTempDir(`redis-node${n}`)
      dirs.push(dataDir)
      const port = await freePort()
      nodes.push(await spawnServer({
        name: `cubby-server --redis (node ${n})`,
        args: [...nodeArgs, cli, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir],
        env,
        ready: /listening on/,
        url: `http://127.0.0.1:${port}`,
      }))
    }
  } catch (error) {
    await stop()
    throw error
  }
  const [node1, node2] = nodes
  return {
    name: 'cubby-server --redis (2 nodes)',
    url: node1.url,
    url2: node2.url,
    get pid() {
      return node1.pid
    },
    get nodePids() {
      return [node1.pid, node2.pid]
    },
    redisPid,
    redisUrl: redis.url,
    stats: () => {
      const all = [node1.stats(), node2.stats(), procStats(redisPid)]
      return { cpuSeconds: all.reduce((s, x) => s + x.cpuSeconds, 0), rssBytes: all.reduce((s, x) => s + x.rssBytes, 0) }
    },
    output: () => `${node1.output()}\n${node2.output()}`,
    stop,
    restart: async () => {
      await node1.restart()
      await node2.restart()
    },
  }
}

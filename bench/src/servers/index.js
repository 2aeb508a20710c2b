import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnServer } from '../lib/server.js'
import { randomBytes } from 'node:crypto'
import { freePort, makeTempDir, removeDir } from '../lib/util.js'
import { startCubbyRedis } from './cubby-redis.js'

const require = createRequire(import.meta.url)
const here = (file) => fileURLToPath(new URL(file, import.meta.url))

/** The built cubby-server CLI, exactly as users run it (CUBBY_BENCH_CLI points elsewhere, e.g. an older build). */
export const CUBBY_CLI = process.env.CUBBY_BENCH_CLI ?? fileURLToPath(new URL('../../../apps/server/dist/cli.js', import.meta.url))
/** The stock y-websocket server script of @y/websocket-server. */
const YJS_SERVER = join(dirname(require.resolve('@y/websocket-server/package.json')), 'src/server.js')

export const cubbyAvailable = () => existsSync(CUBBY_CLI)
/** The Redis deployment needs the built CLI and Debian's redis-server. */
export const redisAvailable = () => cubbyAvailable() && existsSync('/usr/bin/redis-server')

/**
 * Starts the server of `system` ('cubby' | 'redis' | 'yjs' | 'pouchdb' | 'ws') as a child process on 127.0.0.1.
 * The port is picked once, so `restart()` comes back on the same one. 'redis' is Cubby's Redis deployment:
 * a redis-server and two cubby-server nodes (see cubby-redis.js). `cubbyArgs` are more flags for cubby-server (e.g. a
 * raised limit).
 */
export async function startServer(system, { dataDir, secret, nodeArgs = [], cubbyArgs = [] } = {}) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  switch (system) {
    case 'ws':
      return spawnServer({ name: 'bare ws', args: [...nodeArgs, here('./bare-ws.js'), String(port)], ready: /listening on/, url: base })
    case 'cubby':
      if (!cubbyAvailable()) throw new Error(`${CUBBY_CLI} is missing: run the build first (pnpm build)`)
      return spawnServer({
        name: 'cubby-server',
        args: [...nodeArgs, CUBBY_CLI, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, ...cubbyArgs],
        env: { CUBBY_SECRET: secret },
        ready: /listening on/,
        url: base,
      })
    case 'redis':
      if (!redisAvailable()) throw new Error(`${CUBBY_CLI} or /usr/bin/redis-server is missing`)
      return startCubbyRedis({ cli: CUBBY_CLI, secret, nodeArgs })
    case 'yjs':
      return spawnServer({
        name: 'y-websocket-server',
        args: [...nodeArgs, YJS_SERVER],
        env: { HOST: '127.0.0.1', PORT: String(port), YPERSISTENCE: dataDir },
        ready: /running at/,
        url: base,
      })
    case 'pouchdb':
      return spawnServer({ name: 'express-pouchdb', args: [...nodeArgs, here('./pouchdb-server.js'), String(port), dataDir], ready: /listening on/, url: base })
    default:
      throw new Error(`unknown system ${system}`)
  }
}

/**
 * Starts one server per system (each with its own temp data dir and secret), runs `fn` with them, then
 * stops them and removes their data. Having all of them up at once lets a workload interleave its runs
 * (run 1 of every system, then run 2, ...), so a disturbance of the machine hits every system alike.
 */
export async function withServers(systems, { label, profileArgs }, fn) {
  const servers = {}
  const dirs = []
  try {
    for (const system of systems) {
      const dataDir = await makeTempDir(`${label}-${system}`)
      dirs.push(dataDir)
      const secret = 'bench-secret-' + randomBytes(12).toString('base64url')
      const server = await startServer(system, { dataDir, secret, nodeArgs: profileArgs(`${label}-${system}-server`) })
      servers[system] = Object.assign(server, { secret, dataDir })
    }
    return await fn(servers)
  } finally {
    for (const server of Object.values(servers)) await server.stop()
    for (const dir of dirs) await removeDir(dir)
  }
}

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createRedisBus, createRedisStorage } from '@cubby/redis'
import { createCubbyServer, type CubbyServer, type CubbyServerOptions } from '@cubby/server'
import type { CliOptions } from './parseCliOptions.js'

/** A started `cubby-server`. */
export interface StartedCli {
  cubby: CubbyServer
  url: string
  /** Closes the server, then what it runs on (the Redis connections). */
  close(): Promise<void>
}

/**
 * Starts the server the CLI options describe and prints where it listens: exactly one line
 * `cubby-server listening on http://HOST:PORT` (tools parse it), then the data dir (or the Redis). Warnings
 * (a Redis that can lose acknowledged writes) go to `warn`.
 */
export async function startCli(options: CliOptions, print: (line: string) => void, warn: (line: string) => void = print): Promise<StartedCli> {
  const serverOptions: CubbyServerOptions = { ...options.server, limits: options.limits }
  const lines = options.secretFile === undefined ? undefined : readLines(options.secretFile, 'secret file')
  const secret = options.secret ?? lines?.[0]
  if (secret !== undefined) serverOptions.secret = secret
  if (lines !== undefined && lines.length > 1) serverOptions.previousSecrets = [...(serverOptions.previousSecrets ?? []), ...lines.slice(1)]
  if (options.adminTokenFile !== undefined && serverOptions.adminToken === undefined) {
    serverOptions.adminToken = readLines(options.adminTokenFile, 'admin token file')[0]!
  }
  const { redis } = options
  let where: string
  let closeBackend = async (): Promise<void> => {}
  if (redis === undefined) {
    serverOptions.dataDir = resolve(options.dataDir)
    where = `data dir: ${serverOptions.dataDir}`
  } else {
    const connection = redis.cluster === undefined ? { redis: redis.url! } : { redis: {}, cluster: redis.cluster }
    const quota = options.server.quota
    const storage = createRedisStorage({ ...connection, prefix: redis.prefix, ...(quota === undefined ? {} : { quota }) })
    const bus = createRedisBus({ ...connection, prefix: redis.prefix, onError: (error) => warn(`redis bus: ${errorMessage(error)}`) })
    serverOptions.storage = storage
    serverOptions.bus = bus
    closeBackend = async () => {
      await bus.close()
      await storage.close()
    }
    where = redis.cluster === undefined ? `redis: ${redactUrl(redis.url!)}` : `redis cluster: ${redis.cluster.map((n) => `${n.host}:${n.port}`).join(',')}`
    for (const warning of await storage.checkDurability().catch((error: unknown) => [`could not check the Redis settings: ${errorMessage(error)}`])) {
      warn(`warning: ${warning}`)
    }
  }
  const cubby = createCubbyServer(serverOptions)
  const close = async (): Promise<void> => {
    await cubby.close()
    await closeBackend()
  }
  try {
    const listen = options.staticDir === undefined ? {} : { staticDir: resolve(options.staticDir) }
    const { url } = await cubby.listen({ ...listen, host: options.host, port: options.port })
    print(`cubby-server listening on ${url}`)
    print(where)
    return { cubby, url, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** The non-empty lines of a file holding secrets (the message names the file, never its content). */
function readLines(path: string, what: string): string[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '')
  if (lines.length === 0) throw new Error(`The ${what} ${path} is empty`)
  return lines
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** A Redis URL without its password, for the log. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@')
}

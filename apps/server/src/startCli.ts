import { readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { createRedisBus, createRedisErrorLog, createRedisStorage } from '@cubby/redis'
import { createCubbyServer, createJsonLogger, type CubbyServer, type CubbyServerOptions } from '@cubby/server'
import { openDatabase } from './openDatabase.js'
import type { CliOptions } from './parseCliOptions.js'

/** A started `cubby-server`. */
export interface StartedCli {
  cubby: CubbyServer
  url: string
  /** Closes the server, then what it runs on (the Redis connections). */
  close: () => Promise<void>
}

/** A start that cannot go ahead (a busy port, a missing `--static` folder, an unusable data dir): printed as is, exit code 1. */
class StartError extends Error {
  override readonly name = 'StartError'
}

/**
 * Starts the server the CLI options describe and prints where it listens: exactly one line
 * `cubby-server listening on http://HOST:PORT` (tools parse it), then the data dir (or the Redis). Checks first
 * what people get wrong (the `--static` folder, the port, the data dir) and says so in one message, before
 * anything is written: a busy port leaves no new data dir or secret behind. Warnings (a Redis that can lose
 * acknowledged writes) go to `warn`.
 * @throws StartError, DataDirError
 */
export async function startCli(options: CliOptions, print: (line: string) => void, warn: (line: string) => void = print): Promise<StartedCli> {
  const staticDir = options.staticDir === undefined ? undefined : checkStaticDir(options.staticDir)
  if (options.port !== 0) await checkPort(options.host, options.port)
  const serverOptions: CubbyServerOptions = { ...options.server, limits: options.limits }
  const lines = options.secretFile === undefined ? undefined : readLines(options.secretFile, 'secret file')
  const secret = options.secret ?? lines?.[0]
  if (secret !== undefined) serverOptions.secret = secret
  if (lines !== undefined && lines.length > 1) serverOptions.previousSecrets = [...(serverOptions.previousSecrets ?? []), ...lines.slice(1)]
  if (options.adminTokenFile !== undefined && serverOptions.adminToken === undefined) {
    serverOptions.adminToken = readLines(options.adminTokenFile, 'admin token file')[0]!
  }
  if (options.logFormat === 'json') serverOptions.logger = createJsonLogger()
  const { redis } = options
  let where: string
  let closeBackend = async (): Promise<void> => {}
  if (redis === undefined) {
    const dataDir = resolve(options.dataDir)
    // Opened once alone first, so that a locked or read-only data dir gets a message rather than a stack trace.
    await (await openDatabase(dataDir, { createIfMissing: true })).close()
    serverOptions.dataDir = dataDir
    where = `data dir: ${dataDir}`
  } else {
    const connection = redis.cluster === undefined ? { redis: redis.url! } : { redis: {}, cluster: redis.cluster }
    const quota = options.server.quota
    // One line per client and kind of error at most every 10 s: a Redis that stays down must not flood the log.
    const report = createRedisErrorLog((line) => warn(line))
    const storage = createRedisStorage({
      ...connection, prefix: redis.prefix, ...(quota === undefined ? {} : { quota }), onError: (error) => report('storage', error),
    })
    const bus = createRedisBus({ ...connection, prefix: redis.prefix, onError: (error) => report('bus', error) })
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
    const listen = staticDir === undefined ? {} : { staticDir }
    const metrics = options.metricsPort === undefined ? {} : { metricsPort: options.metricsPort, metricsHost: options.metricsHost }
    const { url, metricsUrl } = await cubby.listen({ ...listen, ...metrics, host: options.host, port: options.port })
    // Before the listening line, which tools wait for: by then the metrics URL is known too.
    if (metricsUrl !== undefined) print(`metrics on ${metricsUrl}`)
    print(`cubby-server listening on ${url}`)
    print(where)
    return { cubby, url, close }
  } catch (error) {
    await close()
    throw portError(error, options.host, options.port) ?? error
  }
}

function checkStaticDir(dir: string): string {
  const path = resolve(dir)
  let isDir = false
  try {
    isDir = statSync(path).isDirectory()
  } catch {
    // Missing: said below.
  }
  if (!isDir) throw new StartError(`--static ${dir}: no such folder (${path}); build the app first or fix the path`)
  return path
}

/** Binds the port for a moment, so that a busy one is reported before the data dir is touched. */
async function checkPort(host: string, port: number): Promise<void> {
  const probe = createServer()
  await new Promise<void>((done, fail) => {
    probe.once('error', (error) => fail(portError(error, host, port) ?? error)).listen({ host, port, exclusive: true }, done)
  })
  await new Promise<void>((done) => probe.close(() => done()))
}

function portError(error: unknown, host: string, port: number): StartError | undefined {
  const code = (error as { code?: unknown }).code
  if (code === 'EADDRINUSE') return new StartError(`Port ${port} on ${host} is in use; pick another with --port N or CUBBY_PORT=N`)
  if (code === 'EACCES') return new StartError(`Port ${port} on ${host} needs privileges; pick one above 1023 with --port N or CUBBY_PORT=N`)
  if (code === 'EADDRNOTAVAIL') return new StartError(`${host} is not an address of this machine; fix --host or CUBBY_HOST`)
  return undefined
}

/** The non-empty lines of a file holding secrets (the message names the file, never its content). */
function readLines(path: string, what: string): string[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '')
  if (lines.length === 0) throw new StartError(`The ${what} ${path} is empty`)
  return lines
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** A Redis URL without its password, for the log. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@')
}

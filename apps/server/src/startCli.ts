import { statSync } from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { createCubbyServer, createJsonLogger, type CubbyServer, type CubbyServerOptions } from '@cubby/server'
import { openDatabase } from './openDatabase.js'
import type { CliOptions } from './parseCliOptions.js'

/** A started `cubby-server`. */
export interface StartedCli {
  cubby: CubbyServer
  url: string
}

/** A start that cannot go ahead (a busy port, a missing `--static` folder, an unusable data dir): printed as is, exit code 1. */
export class StartError extends Error {
  override readonly name = 'StartError'
}

/**
 * Starts the server the CLI options describe and prints where it listens: exactly one line
 * `cubby-server listening on http://HOST:PORT` (tools parse it), then the data dir. Checks first what people get
 * wrong (the `--static` folder, the port, the data dir) and says so in one message, before anything is written:
 * a busy port leaves no new data dir or secret behind.
 * @throws StartError, DataDirError
 */
export async function startCli(options: CliOptions, print: (line: string) => void): Promise<StartedCli> {
  const dataDir = resolve(options.dataDir)
  const staticDir = options.staticDir === undefined ? undefined : checkStaticDir(options.staticDir)
  if (options.port !== 0) await checkPort(options.host, options.port)
  // Opened once alone first, so that a locked or read-only data dir gets a message rather than a stack trace.
  await (await openDatabase(dataDir, { createIfMissing: true })).close()
  const serverOptions: CubbyServerOptions = { ...options.server, dataDir, limits: options.limits }
  if (options.secret !== undefined) serverOptions.secret = options.secret
  if (options.logFormat === 'json') serverOptions.logger = createJsonLogger()
  const cubby = createCubbyServer(serverOptions)
  try {
    const listen = staticDir === undefined ? {} : { staticDir }
    const metrics = options.metricsPort === undefined ? {} : { metricsPort: options.metricsPort, metricsHost: options.metricsHost }
    const { url, metricsUrl } = await cubby.listen({ ...listen, ...metrics, host: options.host, port: options.port })
    // Before the listening line, which tools wait for: by then the metrics URL is known too.
    if (metricsUrl !== undefined) print(`metrics on ${metricsUrl}`)
    print(`cubby-server listening on ${url}`)
    print(`data dir: ${dataDir}`)
    return { cubby, url }
  } catch (error) {
    await cubby.close()
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

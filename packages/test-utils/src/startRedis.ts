import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, waitUntil } from './freePort.js'

const run = promisify(execFile)

/** The binaries the helpers run (Debian's `redis-server` and `redis-tools`). */
export const REDIS_SERVER = '/usr/bin/redis-server'
/** @see REDIS_SERVER */
export const REDIS_CLI = '/usr/bin/redis-cli'

/** Options of {@link startRedis}. */
export interface TestRedisOptions {
  /** More `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[]
}

/** A real `redis-server` on a free loopback port, with its data in a temp dir. */
export interface TestRedis extends AsyncDisposable {
  readonly host: '127.0.0.1'
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** The data dir (append-only file, cluster config). */
  readonly dir: string
  /** Runs `redis-cli` against this server and returns its output, e.g. `cli('CONFIG', 'GET', 'appendonly')`. */
  cli(...args: string[]): Promise<string>
  /** Kills the server with SIGKILL (no shutdown save) and waits until it is gone. */
  kill9(): Promise<void>
  /** Starts the server again on the same port and dir (after {@link kill9} or a stop) and waits for PING. */
  restart(): Promise<void>
  /** Stops the server and removes its dir. */
  close(): Promise<void>
}

/**
 * Starts a `redis-server` on 127.0.0.1 with durable settings (`appendonly yes`, `appendfsync always`, no RDB
 * snapshots), never the system service, and waits until it answers PING.
 *
 * @example
 * ```ts
 * await using redis = await startRedis()
 * const storage = createRedisStorage({ redis: redis.url })
 * ```
 */
export async function startRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-redis-'))
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      try {
        return await launch(dir, port, options.args ?? [])
      } catch (error) {
        // Another process may have taken the port between freePort() and the bind.
        if (attempt === 3) throw error
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

async function launch(dir: string, port: number, extra: string[]): Promise<TestRedis> {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always',
    '--save', '', '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', join(dir, 'redis.log'), ...extra,
  ]
  const cli = async (...command: string[]): Promise<string> =>
    (await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...command], { timeout: 10_000 })).stdout
  let child: ChildProcess | undefined
  const start = async (): Promise<void> => {
    const started = spawn(REDIS_SERVER, args, { stdio: 'ignore' })
    child = started
    let exited = false
    started.once('exit', () => { exited = true })
    await waitUntil(async () => {
      if (exited) throw new Error(`redis-server exited at start (port ${port}); see ${join(dir, 'redis.log')}`)
      return (await cli('PING')).trim() === 'PONG'
    }, `redis-server on port ${port} did not answer PING within 15 s`).catch((error: unknown) => {
      started.kill('SIGKILL')
      throw exited ? new Error(`redis-server exited at start (port ${port})`) : error
    })
  }
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child
    child = undefined
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return
    const gone = new Promise((resolve) => current.once('exit', resolve))
    current.kill(signal)
    await gone
  }
  await start()
  const close = async (): Promise<void> => {
    await stop('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
  return {
    host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`, dir, cli,
    kill9: () => stop('SIGKILL'),
    async restart() {
      await stop('SIGTERM')
      await start()
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}

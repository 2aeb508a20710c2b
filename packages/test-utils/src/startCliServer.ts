import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signTestToken } from './signTestToken.js'

/** The built CLI: tests run the real `cubby-server` process, exactly as users start it. */
export const CLI_PATH: string = fileURLToPath(new URL('../../../apps/server/dist/cli.js', import.meta.url))

/** Options of {@link startCliServer}. */
export interface CliServerOptions {
  /** Extra CLI flags, e.g. `['--max-value-bytes', '1000']`. @default [] */
  args?: string[]
  /** Extra environment variables. @default {} */
  env?: Record<string, string>
  /** Data directory to reuse (the caller then owns it). @default a fresh temp dir, removed on dispose */
  dataDir?: string
  /** A command that execs the server, e.g. `['prlimit', '--nofile=256:256']` (it must keep the process id). @default [] */
  wrapper?: string[]
  /** The signing secret (`CUBBY_SECRET`), e.g. one shared by several nodes. @default 32 random bytes */
  secret?: string
}

/** A running `cubby-server` child process on 127.0.0.1 with its own temp data dir. */
export interface CliServer extends AsyncDisposable {
  readonly url: string
  readonly port: number
  readonly dataDir: string
  readonly secret: string
  /** PID of the current process (changes on restart). */
  readonly pid: number
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string
  /** A token for `userId`, signed with the server's secret. */
  token(userId: string): string
  /** SIGTERM and wait for a clean exit; resolves to the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL (`kill -9`): no chance to flush anything. */
  kill9(): Promise<void>
  /** Start the process again on the same port and data dir (after stop or kill9). */
  start(): Promise<void>
  /** stop() then start(). */
  restart(): Promise<void>
}

const LISTENING = /cubby-server listening on (http:\/\/127\.0\.0\.1:(\d+))/

interface Running {
  child: ChildProcess
  exited: Promise<number | null>
}

function spawnServer(args: string[], env: Record<string, string>, log: string[], wrapper: string[] = []): Promise<Running & { port: number }> {
  const [command = process.execPath, ...prefix] = [...wrapper, ...(wrapper.length > 0 ? [process.execPath] : [])]
  const child = spawn(command, [...prefix, CLI_PATH, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let stdout = ''
    const timer = setTimeout(() => fail(new Error('cubby-server did not report listening within 20 s')), 20_000)
    const fail = (error: Error): void => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${error.message}\n--- server output ---\n${log.join('')}`))
    }
    child.stderr.on('data', (chunk: Buffer) => log.push(chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      log.push(chunk.toString())
      stdout += chunk.toString()
      const match = LISTENING.exec(stdout)
      if (match) {
        clearTimeout(timer)
        resolve({ child, exited, port: Number(match[2]) })
      }
    })
    void exited.then((code) => fail(new Error(`cubby-server exited with code ${code} before listening`)))
  })
}

/**
 * Starts the real `cubby-server` CLI on 127.0.0.1 (a free port) with a temp data dir and a known secret, for
 * tests that need a process of its own: CLI flags, signals, `kill -9`, the process's memory, proof that it did
 * not crash. Everything else starts an in-process server with {@link startTestServer}, which needs no build.
 *
 * @example
 * ```ts
 * await using server = await startCliServer({ args: ['--max-value-bytes', '1000'] })
 * const res = await fetch(`${server.url}/healthz`)
 * ```
 */
export async function startCliServer(options: CliServerOptions = {}): Promise<CliServer> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run the build first (npm test does)`)
  const ownsDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cubby-test-')))
  const secret = options.secret ?? randomBytes(32).toString('base64url')
  const env = { CUBBY_SECRET: secret, ...options.env }
  const log: string[] = []
  let port = 0
  let running: Running | undefined

  const start = async (): Promise<void> => {
    const args = ['--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, ...(options.args ?? [])]
    const started = await spawnServer(args, env, log, options.wrapper)
    port = started.port
    running = started
  }
  const stop = async (): Promise<number | null> => {
    const current = running
    running = undefined
    if (!current) return null
    current.child.kill('SIGTERM')
    return current.exited
  }
  const kill9 = async (): Promise<void> => {
    const current = running
    running = undefined
    if (!current) return
    current.child.kill('SIGKILL')
    await current.exited
  }
  await start()
  return {
    get url() { return `http://127.0.0.1:${port}` },
    get port() { return port },
    get pid() { return running?.child.pid ?? -1 },
    dataDir,
    secret,
    output: () => log.join(''),
    token: (userId) => signTestToken(secret, userId),
    stop,
    kill9,
    start,
    restart: async () => { await stop(); await start() },
    [Symbol.asyncDispose]: async () => {
      const current = running
      const hung = await stopWithin(stop, 10_000)
      if (hung) current?.child.kill('SIGKILL')
      if (ownsDir) await rm(dataDir, { recursive: true, force: true })
      // A graceful stop that takes longer than 10 s is a bug worth seeing, but must not hang the suite.
      if (hung) throw new Error(`cubby-server did not exit within 10 s of SIGTERM\n${log.join('')}`)
    },
  }
}

async function stopWithin(stop: () => Promise<number | null>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'hung'>((resolve) => { timer = setTimeout(() => resolve('hung'), ms) })
  const result = await Promise.race([stop(), timeout])
  clearTimeout(timer)
  return result === 'hung'
}

import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CubbyServer, type CubbyServerOptions, createCubbyServer } from '@cubby/server'
import { signTestToken } from './signTestToken.js'

/** Options of {@link startTestServer}: any server option; `dataDir` and `secret` get test defaults. */
export interface TestServerOptions extends Partial<CubbyServerOptions> {
  /** Data directory to reuse (the caller then owns it). @default a fresh temp dir, removed on dispose */
  dataDir?: string
  /** The signing secret. @default 32 random bytes */
  secret?: string
}

/** A Cubby server in the test's own process on 127.0.0.1, with its own temp data dir. */
export interface TestServer extends AsyncDisposable {
  readonly url: string
  readonly port: number
  readonly dataDir: string
  readonly secret: string
  /** The running server (a new one after a restart). */
  readonly cubby: CubbyServer
  /** A token for `userId`, signed with the server's secret. */
  token(userId: string): string
  /** Closes the server: sockets get 1001, writes in flight finish, the database closes. */
  stop(): Promise<void>
  /** Starts the server again on the same port and data dir (after stop). */
  start(): Promise<void>
  /** stop() then start(). */
  restart(): Promise<void>
}

/**
 * Starts a real Cubby server (`createCubbyServer`, LevelDB in a temp dir) in this process on 127.0.0.1 and a free
 * port. It runs from source, so no build is needed; tests that need a process of their own use `startCliServer`.
 *
 * @example
 * ```ts
 * await using server = await startTestServer({ limits: { maxValueBytes: 1000 } })
 * await using client = connectTestClient(server.url, { auth: server.token('alice') })
 * ```
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownsDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cubby-test-')))
  const secret = options.secret ?? randomBytes(32).toString('base64url')
  let port = 0
  let running: CubbyServer | undefined
  let last: CubbyServer | undefined

  const start = async (): Promise<void> => {
    const cubby = createCubbyServer({ logger: null, ...options, dataDir, secret })
    port = (await cubby.listen({ port, host: '127.0.0.1' })).port
    running = last = cubby
  }
  const stop = async (): Promise<void> => {
    const current = running
    running = undefined
    await current?.close()
  }
  await start()
  return {
    get url() { return `http://127.0.0.1:${port}` },
    get port() { return port },
    get cubby() { return (running ?? last)! },
    dataDir,
    secret,
    token: (userId) => signTestToken(secret, userId),
    stop,
    start,
    restart: async () => { await stop(); await start() },
    [Symbol.asyncDispose]: async () => {
      await stop()
      if (ownsDir) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

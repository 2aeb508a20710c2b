import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { CubbyError } from '@cubby/protocol'
import express, { type Router } from 'express'
import { UserAdmin } from './admin/UserAdmin.js'
import { DeletionMarkers } from './auth/DeletionMarkers.js'
import { TokenAuth } from './auth/TokenAuth.js'
import { answerClientError, closeHttpServer } from './closeHttpServer.js'
import type { CubbyServerOptions } from './CubbyServerOptions.js'
import { createHttpRouter } from './http/createHttpRouter.js'
import { createInfoRouter, createStaticRouter } from './http/createStaticRouter.js'
import { consoleLogger, silentLogger, type CubbyLogger } from './logger.js'
import { Protection } from './limits/Protection.js'
import {
  positiveInteger, reloadSecrets, resolveAdminToken, resolveLimits, resolvePreviousSecrets, resolveProtection, resolveSecret,
  resolveStorage, type ResolvedStorage,
} from './resolveOptions.js'
import { ServerVerbs, type ServerListOptions } from './ServerVerbs.js'
import { SyncEndpoint } from './sync/SyncEndpoint.js'
import { SyncHub } from './sync/SyncHub.js'
import { Writer } from './writes/Writer.js'
import type { CubbyServer, ListenOptions } from './CubbyServer.js'
import type { ImportResult, UserRecord, UserSummary } from './storage/UserRecord.js'

/**
 * Creates a Cubby server: LevelDB storage, WebSocket sync and the HTTP API.
 *
 * @throws TypeError when none of `dataDir`, `db` or `storage` is given, or an option is out of range.
 * @example
 * ```ts
 * const cubby = createCubbyServer({ dataDir: './cubby-data' })
 * const { url } = await cubby.listen({ port: 8080 })
 * await cubby.store('user-42', 'plan', 'pro')
 * ```
 */
export function createCubbyServer(options: CubbyServerOptions): CubbyServer {
  const logger = options.logger === null ? silentLogger : (options.logger ?? consoleLogger)
  return new CubbyServerImpl(options, logger)
}

class CubbyServerImpl implements CubbyServer {
  readonly app: Router
  readonly #resolved: ResolvedStorage
  readonly #auth: TokenAuth
  readonly #options: CubbyServerOptions
  /** The secret that signs now, kept for {@link reloadSecrets} when it comes from neither option nor file. */
  #secret: string
  readonly #writer: Writer
  readonly #endpoint: SyncEndpoint
  readonly #verbs: ServerVerbs
  readonly #admin: UserAdmin
  readonly #opened: Promise<void>
  #server: Server | undefined
  #closing: Promise<void> | undefined

  constructor(options: CubbyServerOptions, logger: CubbyLogger) {
    // Everything that can throw comes before the database is made, so a bad option leaks no open database.
    this.#options = options
    const limits = resolveLimits(options.limits)
    const sync = {
      pullBatchSize: positiveInteger('pullBatchSize', options.pullBatchSize, 500),
      helloTimeoutMs: positiveInteger('helloTimeoutMs', options.helloTimeoutMs, 10_000),
      heartbeatMs: positiveInteger('heartbeatMs', options.heartbeatMs, 30_000),
    }
    const protection = new Protection(resolveProtection(options, limits))
    const { issuer, audience, authenticate } = options
    const secret = (this.#secret = resolveSecret(options, logger))
    const previousSecrets = resolvePreviousSecrets(options)
    const adminToken = resolveAdminToken(options)
    this.#resolved = resolveStorage(options)
    const { storage } = this.#resolved
    this.#opened = storage.open()
    this.#opened.catch((error: unknown) => logger.error('Could not open the storage', error))
    const ready = (): Promise<void> => this.#ready()
    const markers = new DeletionMarkers(storage, ready)
    const deletedAt = (userId: string): Promise<number | undefined> => markers.deletedAt(userId)
    this.#auth = new TokenAuth({ secret, previousSecrets, issuer, audience, authenticate, limits, deletedAt })
    const { bus } = options
    const hub = new SyncHub(bus)
    this.#writer = new Writer({ storage, publisher: hub, limits, logger })
    this.#endpoint = new SyncEndpoint({
      ...sync, hub, storage, writer: this.#writer, verify: (t) => this.#auth.verify(t), limits, logger, ready,
      isClosing: () => this.#closing !== undefined, protection,
    })
    const anonymousIdentities = options.anonymousIdentities ?? authenticate === undefined
    this.#admin = new UserAdmin({ storage, hub, limits, ready, markers, ...(bus === undefined ? {} : { bus }) })
    const admin = this.#admin
    bus?.listen({
      changes: (userId, changes) => hub.deliverRemote(userId, changes),
      userEvent: (userId, event) => admin.endUser(userId, event),
      resync: (userId) => {
        if (userId === undefined) markers.forgetAll()
        hub.catchUp(userId)
      },
    })
    this.app = createHttpRouter({
      storage, writer: this.#writer, auth: this.#auth, limits, logger, anonymousIdentities, ready, protection, admin: this.#admin, adminToken,
    })
    this.#verbs = new ServerVerbs(storage, this.#writer, limits, ready)
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#endpoint.handleUpgrade(req, socket, head)
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.#endpoint.matches(req)) this.#endpoint.handleUpgrade(req, socket, head)
    })
  }

  async listen({ port = 0, host = '127.0.0.1', staticDir }: ListenOptions = {}): Promise<{ url: string; port: number }> {
    if (this.#server !== undefined) throw new TypeError('listen() was already called')
    const app = express().disable('x-powered-by').use(this.app)
    app.use(staticDir === undefined ? createInfoRouter() : createStaticRouter(staticDir))
    const server = (this.#server = createServer(app))
    server.on('clientError', answerClientError)
    // This server has no other upgrade handlers, so other paths are refused rather than left hanging.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head))
    await this.#ready()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject).listen(port, host, () => resolve())
    })
    const actual = (server.address() as AddressInfo).port
    return { url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`, port: actual }
  }

  store(userId: string, key: string, value: unknown): Promise<number> { return this.#verbs.store(userId, key, value) }
  get(userId: string, key: string): Promise<unknown> { return this.#verbs.get(userId, key) }
  async list(userId: string, options?: ServerListOptions): Promise<string[]> {
    return (await this.#verbs.entries(userId, options)).map(([key]) => key)
  }
  entries(userId: string, options?: ServerListOptions): Promise<Array<[string, unknown]>> { return this.#verbs.entries(userId, options) }
  delete(userId: string, key: string): Promise<number> { return this.#verbs.delete(userId, key) }
  clear(userId: string): Promise<number> { return this.#verbs.clear(userId) }
  issueToken(userId: string): Promise<string> { return this.#auth.issueToken(userId) }
  reloadSecrets(): void {
    const { secret, previousSecrets } = reloadSecrets(this.#options, this.#secret)
    if (previousSecrets.some((s) => s.length === 0)) throw new TypeError('previousSecrets must not be empty strings')
    this.#auth.setSecrets(secret, previousSecrets)
    this.#secret = secret
  }
  users({ after, limit = 100 }: { after?: string; limit?: number } = {}): Promise<UserSummary[]> {
    return this.#admin.users({ ...(after === undefined ? {} : { after }), limit })
  }
  exportUser(userId: string): AsyncIterable<UserRecord> { return this.#admin.exportUser(userId) }
  importUser(userId: string, records: AsyncIterable<UserRecord>): Promise<ImportResult> { return this.#admin.importUser(userId, records) }
  deleteUser(userId: string): Promise<boolean> { return this.#admin.deleteUser(userId) }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown()
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #ready(): Promise<void> {
    return this.#closing === undefined ? this.#opened : Promise.reject(new CubbyError('CLOSED', 'The server is shutting down'))
  }

  async #shutDown(): Promise<void> {
    this.#endpoint.stopAccepting()
    const httpClosed = this.#server === undefined ? Promise.resolve() : closeHttpServer(this.#server)
    await this.#writer.close()
    await this.#endpoint.close()
    await httpClosed
    const { storage, ownsStorage, ownedDb } = this.#resolved
    await this.#opened.catch(() => {})
    if (ownsStorage) await storage.close()
    if (ownedDb !== undefined) await ownedDb.close()
  }
}

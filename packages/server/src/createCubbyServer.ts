import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { CubbyError, type Change } from '@cubby/protocol'
import express, { type Router } from 'express'
import { PruneSchedule } from './admin/PruneSchedule.js'
import { checkUnusedDays } from './admin/pruneAnonymousUsers.js'
import { UserAdmin } from './admin/UserAdmin.js'
import { AccountMerger } from './auth/AccountMerger.js'
import { DeletionMarkers } from './auth/DeletionMarkers.js'
import { DeviceLinks } from './auth/DeviceLinks.js'
import { IdentityAdmission } from './auth/IdentityAdmission.js'
import { TokenAuth } from './auth/TokenAuth.js'
import { answerClientError, closeHttpServer } from './closeHttpServer.js'
import type { CubbyServerOptions } from './CubbyServerOptions.js'
import { createHttpRouter } from './http/createHttpRouter.js'
import { createInfoRouter, createStaticRouter } from './http/createStaticRouter.js'
import { consoleLogger, silentLogger, type CubbyLogger } from './logger.js'
import { ServerMetrics } from './metrics/ServerMetrics.js'
import { ConnectionGate } from './limits/ConnectionGate.js'
import { connectionCap, openFileLimit } from './limits/descriptorLimit.js'
import { Protection } from './limits/Protection.js'
import {
  positiveInteger, reloadSecrets, resolveAdminToken, resolveIdentityRate, resolveLimits, resolvePreviousSecrets, resolveProtection, resolvePublicOrigins, resolveSecret, resolveTokenTtls,
  resolveStorage, type ResolvedStorage,
} from './resolveOptions.js'
import { ServerVerbs, type ServerListOptions } from './ServerVerbs.js'
import { ExpirySweeper } from './storage/ExpirySweeper.js'
import { SyncEndpoint } from './sync/SyncEndpoint.js'
import { SyncHub } from './sync/SyncHub.js'
import { Writer } from './writes/Writer.js'
import type { CubbyServer, ListenOptions, ServerWriteOptions } from './CubbyServer.js'
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
  readonly #sweeper: ExpirySweeper
  readonly #endpoint: SyncEndpoint
  readonly #verbs: ServerVerbs
  readonly #admin: UserAdmin
  readonly #opened: Promise<void>
  readonly #protection: Protection
  readonly #logger: CubbyLogger
  readonly #prune: PruneSchedule | undefined
  readonly #metrics: ServerMetrics
  #server: Server | undefined
  #metricsServer: Server | undefined
  #gate: ConnectionGate | undefined
  #closing: Promise<void> | undefined

  constructor(options: CubbyServerOptions, logger: CubbyLogger) {
    // Everything that can throw comes before the database is made, so a bad option leaks no open database.
    this.#options = options
    this.#logger = logger
    const limits = resolveLimits(options.limits)
    const sync = {
      pullBatchSize: positiveInteger('pullBatchSize', options.pullBatchSize, 500),
      helloTimeoutMs: positiveInteger('helloTimeoutMs', options.helloTimeoutMs, 10_000),
      heartbeatMs: positiveInteger('heartbeatMs', options.heartbeatMs, 30_000),
    }
    const protection = (this.#protection = new Protection(resolveProtection(options, limits)))
    checkUnusedDays('pruneAnonymousAfterDays', options.pruneAnonymousAfterDays)
    const publicOrigins = resolvePublicOrigins(options)
    const ttls = resolveTokenTtls(options)
    const { issuer, audience, authenticate } = options
    const secret = (this.#secret = resolveSecret(options, logger))
    const previousSecrets = resolvePreviousSecrets(options)
    const adminToken = resolveAdminToken(options)
    this.#resolved = resolveStorage(options)
    const { storage } = this.#resolved
    const metrics = (this.#metrics = new ServerMetrics(logger))
    storage.registerMetrics?.(metrics.registry, { catchUp: (reason) => metrics.catchUp(reason) })
    this.#opened = storage.open()
    this.#opened.catch((error: unknown) => logger.error('Could not open the storage', error))
    const ready = (): Promise<void> => this.#ready()
    const markers = new DeletionMarkers(storage, ready)
    const deletedAt = (userId: string): Promise<number | undefined> => markers.deletedAt(userId)
    const anonymousIdentities = options.anonymousIdentities ?? authenticate === undefined
    this.#auth = new TokenAuth({
      secret, previousSecrets, issuer, audience, authenticate, limits, deletedAt, selfCertified: anonymousIdentities, ...ttls,
      ...(publicOrigins === undefined ? {} : { publicOrigins }), ...(storage.devices === undefined ? {} : { devices: storage.devices }),
    })
    const identities = new IdentityAdmission({ rate: resolveIdentityRate(options), head: async (userId) => (await ready(), storage.head(userId)) })
    const { bus } = options
    bus?.registerMetrics?.(metrics.registry, { catchUp: (reason) => metrics.catchUp(reason) })
    const hub = new SyncHub(bus, metrics)
    const sweeper = (this.#sweeper = new ExpirySweeper({ storage, publish: (userId, changes) => hub.publish(userId, changes), logger, ready }))
    // Every write goes out through the hub; the sweeper looks at it for an expiry earlier than its timer.
    const publisher = {
      publish: (userId: string, changes: Change[], origin?: object) => {
        hub.publish(userId, changes, origin)
        sweeper.noteChanges(changes)
      },
    }
    this.#writer = new Writer({ storage, publisher, limits, logger, metrics })
    this.#endpoint = new SyncEndpoint({
      ...sync, hub, storage, writer: this.#writer, verify: (t, r) => this.#auth.check(t, r), identities, limits, logger, ready,
      isClosing: () => this.#closing !== undefined, protection, metrics,
    })
    metrics.setSources({ tcpConnections: () => this.#gate?.open ?? 0, syncSockets: () => this.#endpoint.size, sessions: () => hub.count() })
    const devices = storage.devices === undefined ? undefined : new DeviceLinks({ registry: storage.devices, hub, ready, ...(bus === undefined ? {} : { bus }) })
    this.#admin = new UserAdmin({ storage, hub, limits, ready, markers, ...(bus === undefined ? {} : { bus }), ...(devices === undefined ? {} : { devices }) })
    const admin = this.#admin
    bus?.listen({
      changes: (userId, changes) => hub.deliverRemote(userId, changes),
      userEvent: (userId, event) => admin.endUser(userId, event),
      deviceRevoked: (userId, deviceId) => devices?.endDevice(userId, deviceId),
      resync: (userId) => {
        if (userId === undefined) markers.forgetAll()
        hub.catchUp(userId)
      },
    })
    this.app = createHttpRouter({
      storage, writer: this.#writer, auth: this.#auth, limits, logger, anonymousIdentities, identities, ready, protection, admin: this.#admin, adminToken,
      metrics, devices, merger: new AccountMerger({ storage, hub, markers, admin, bus }),
    })
    this.#verbs = new ServerVerbs(storage, this.#writer, limits, ready)
    sweeper.start()
    const { pruneAnonymousAfterDays: days } = options
    this.#prune = days === undefined ? undefined : new PruneSchedule(this.#admin, days, logger)
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // An 'upgrade' listener runs outside express's error handling: a throw here would end the process.
    try {
      this.#endpoint.handleUpgrade(req, socket, head)
    } catch (error) {
      this.#logger.error('Could not handle an upgrade request', error)
      socket.destroy()
    }
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.#endpoint.matches(req)) this.handleUpgrade(req, socket, head)
    })
  }

  async listen({ port = 0, host = '127.0.0.1', staticDir, metricsPort, metricsHost = '127.0.0.1' }: ListenOptions = {}):
    Promise<{ url: string; port: number; metricsUrl?: string }> {
    if (this.#server !== undefined) throw new TypeError('listen() was already called')
    const app = express().disable('x-powered-by').use(this.app)
    app.use(staticDir === undefined ? createInfoRouter() : createStaticRouter(staticDir))
    const gate = (this.#gate = this.#connectionGate())
    const server = (this.#server = createServer((req, res) => {
      if (gate.isRefused(req.socket)) req.socket.destroy()
      else app(req, res)
    }))
    // Before the http server's own listener, so that a refused socket is marked before anything reads it.
    server.prependListener('connection', (socket: Socket) => gate.admit(socket))
    server.on('clientError', answerClientError)
    // This server has no other upgrade handlers, so other paths are refused rather than left hanging.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (gate.isRefused(req.socket)) socket.destroy()
      else this.handleUpgrade(req, socket, head)
    })
    await this.#ready()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject).listen(port, host, () => resolve())
    })
    const actual = (server.address() as AddressInfo).port
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`
    if (metricsPort === undefined) return { url, port: actual }
    return { url, port: actual, metricsUrl: await this.#listenMetrics(metricsPort, metricsHost) }
  }

  /** The metrics port: `GET /metrics` without a credential, nothing else. */
  async #listenMetrics(port: number, host: string): Promise<string> {
    const metrics = this.#metrics
    const server = (this.#metricsServer = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') return void res.writeHead(404).end()
      metrics.scrape().then(
        (text) => res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).end(text),
        (error: unknown) => {
          this.#logger.error('Could not collect the metrics', error)
          res.writeHead(500).end()
        },
      )
    }))
    server.on('clientError', answerClientError)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject).listen(port, host, () => resolve())
    })
    const actual = (server.address() as AddressInfo).port
    return `http://${host.includes(':') ? `[${host}]` : host}:${actual}/metrics`
  }

  /** The cap on TCP connections of `listen()`: `maxConnections`, lowered to what the open-file limit leaves. */
  #connectionGate(): ConnectionGate {
    const { maxConnections, maxConnectionsPerAddress, trustProxy } = this.#protection.options
    const fileLimit = openFileLimit()
    const max = connectionCap(maxConnections, fileLimit)
    if (max < maxConnections) {
      this.#logger.warn(`At most ${max} connections (not ${maxConnections}): the open-file limit is ${fileLimit}, and the rest is kept for the database`)
    }
    const onRefuse = (kind: 'connections' | 'address-connections'): void => this.#metrics.refused('RATE_LIMITED', kind)
    return new ConnectionGate({ max, perAddress: trustProxy ? undefined : maxConnectionsPerAddress, onRefuse })
  }

  store(userId: string, key: string, value: unknown, options?: ServerWriteOptions): Promise<number> { return this.#verbs.store(userId, key, value, options) }
  getEntry(userId: string, key: string): Promise<{ value: unknown; version: number } | undefined> { return this.#verbs.getEntry(userId, key) }
  get(userId: string, key: string): Promise<unknown> { return this.#verbs.get(userId, key) }
  async list(userId: string, options?: ServerListOptions): Promise<string[]> {
    return (await this.#verbs.entries(userId, options)).map(([key]) => key)
  }
  entries(userId: string, options?: ServerListOptions): Promise<Array<[string, unknown]>> { return this.#verbs.entries(userId, options) }
  delete(userId: string, key: string, options?: ServerWriteOptions): Promise<number> { return this.#verbs.delete(userId, key, options) }
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
    await this.#prune?.stop()
    const httpClosed = this.#server === undefined ? Promise.resolve() : closeHttpServer(this.#server)
    const metricsClosed = this.#metricsServer === undefined ? Promise.resolve() : closeHttpServer(this.#metricsServer)
    await this.#sweeper.close()
    await this.#writer.close()
    await this.#endpoint.close()
    await httpClosed
    await metricsClosed
    this.#metrics.close()
    const { storage, ownsStorage, ownedDb } = this.#resolved
    await this.#opened.catch(() => {})
    if (ownsStorage) await storage.close()
    if (ownedDb !== undefined) await ownedDb.close()
  }
}

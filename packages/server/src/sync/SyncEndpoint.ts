import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { CLOSE_CODES, SYNC_PATH, type CubbyErrorCode } from '@cubby/protocol'
import { BUSY_RETRY_AFTER, CONNECTION_CAP_RETRY_AFTER } from '../limits/Protection.js'
import { WebSocket, WebSocketServer } from 'ws'
import { SyncConnection, type SyncContext } from './SyncConnection.js'

/** Registered as every upgrading socket's error listener: a function without a closure, so it keeps no request alive. */
function destroyOnError(this: Duplex): void {
  this.destroy()
}

/** Options of {@link SyncEndpoint}. @internal */
export interface SyncEndpointOptions extends SyncContext {
  heartbeatMs: number
}

/** How long closing sockets get for the close handshake before they are cut. */
const CLOSE_GRACE_MS = 2000

/**
 * The path of a request target, or `undefined` when it does not parse: the target is whatever the client sent
 * (`//[`, `http://a:99999/`), and `new URL` throws on those.
 */
function pathOf(req: IncomingMessage): string | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname
  } catch {
    return undefined
  }
}

/** Answers an upgrade request with a plain HTTP error (and a JSON error body for the abuse limits). */
function refuse(socket: Duplex, status: string, error?: { code: CubbyErrorCode; message: string; retryAfter?: number }): void {
  const body = error === undefined ? '' : JSON.stringify({ error })
  const retry = error?.retryAfter === undefined ? '' : `Retry-After: ${error.retryAfter}\r\n`
  const type = error === undefined ? '' : 'Content-Type: application/json\r\n'
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n${retry}${type}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

/**
 * The WebSocket endpoint at {@link SYNC_PATH}: upgrades requests, runs a {@link SyncConnection} per socket and
 * pings every socket each `heartbeatMs`, cutting the ones that did not answer the last ping.
 * @internal
 */
export class SyncEndpoint {
  readonly #wss: WebSocketServer
  readonly #ctx: SyncEndpointOptions
  /** The open connections (ws's own client tracking is off: it costs a listener and a closure per socket). */
  readonly #connections = new Set<SyncConnection>()
  readonly #heartbeat: NodeJS.Timeout
  #closing = false

  constructor(ctx: SyncEndpointOptions) {
    this.#ctx = ctx
    // Compression stays off: frames are small JSON and deflate costs memory per socket.
    this.#wss = new WebSocketServer({
      noServer: true, clientTracking: false, maxPayload: ctx.limits.maxMessageBytes, perMessageDeflate: false,
    })
    this.#heartbeat = setInterval(() => this.#beat(), ctx.heartbeatMs).unref()
  }

  /** Tells whether a request is for the sync endpoint. */
  matches(req: IncomingMessage): boolean {
    return pathOf(req) === SYNC_PATH
  }

  /** Takes over an upgrade request (from an http server's 'upgrade' event). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError)
    if (this.#closing) return refuse(socket, '503 Service Unavailable')
    if (!this.matches(req)) return refuse(socket, '404 Not Found')
    const protection = this.#ctx.protection
    const { metrics } = this.#ctx
    if (!protection.options.origins.allows(req.headers.origin, req.headers.host)) {
      metrics.refused('FORBIDDEN', 'origin')
      return refuse(socket, '403 Forbidden', { code: 'FORBIDDEN', message: 'This origin may not connect' })
    }
    const address = protection.addressOf(req)
    if (!protection.mayConnect(address)) {
      const message = 'Too many connections from this address'
      metrics.refused('RATE_LIMITED', 'address-connections')
      return refuse(socket, '429 Too Many Requests', { code: 'RATE_LIMITED', message, retryAfter: CONNECTION_CAP_RETRY_AFTER })
    }
    const wait = protection.takeAddress(address)
    if (wait > 0) {
      metrics.refused('RATE_LIMITED', 'address')
      return refuse(socket, '429 Too Many Requests', { code: 'RATE_LIMITED', message: 'Too many requests', retryAfter: wait })
    }
    // Over the outbound budget, stuck readers make room (their bytes are given back once their sockets close).
    if (protection.outbound.exceeded) SyncConnection.shed(this.#connections, protection)
    if (protection.inbound.exceeded || protection.outbound.exceeded) {
      const message = 'The server holds too much buffered data; retry after retryAfter seconds'
      metrics.refused('RATE_LIMITED', 'busy')
      return refuse(socket, '503 Service Unavailable', { code: 'RATE_LIMITED', message, retryAfter: BUSY_RETRY_AFTER })
    }
    const { host } = req.headers
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connect(ws, socket, address, host))
  }

  /** Open sync sockets, welcomed or not (for the metrics). */
  get size(): number {
    return this.#connections.size
  }

  /** Refuses new sockets from now on. */
  stopAccepting(): void {
    this.#closing = true
  }

  /** Closes every socket with 1001 (going away) and stops the heartbeat. */
  async close(): Promise<void> {
    this.#closing = true
    clearInterval(this.#heartbeat)
    await Promise.all(Array.from(this.#connections, (connection) => closeSocket(connection.socket)))
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()))
  }

  #connect(ws: WebSocket, raw: Duplex, address: string, host: string | undefined): void {
    this.#ctx.protection.track(address)
    this.#connections.add(new SyncConnection(ws, raw, this.#ctx, { address, host }, this.#connections))
  }

  #beat(): void {
    for (const connection of this.#connections) connection.beat()
  }
}

function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS)
    ws.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    ws.close(CLOSE_CODES.GOING_AWAY, 'The server is shutting down')
  })
}

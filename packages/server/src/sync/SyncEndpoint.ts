import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { CLOSE_CODES, SYNC_PATH } from '@cubby/protocol'
import { WebSocket, WebSocketServer } from 'ws'
import { SyncConnection, type SyncContext } from './SyncConnection.js'

/** Options of {@link SyncEndpoint}. @internal */
export interface SyncEndpointOptions extends SyncContext {
  heartbeatMs: number
}

/** How long closing sockets get for the close handshake before they are cut. */
const CLOSE_GRACE_MS = 2000

const pathOf = (req: IncomingMessage): string => new URL(req.url ?? '/', 'http://localhost').pathname

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

/**
 * The WebSocket endpoint at {@link SYNC_PATH}: upgrades requests, runs a {@link SyncConnection} per socket and
 * pings every socket each `heartbeatMs`, cutting the ones that did not answer the last ping.
 * @internal
 */
export class SyncEndpoint {
  readonly #wss: WebSocketServer
  readonly #ctx: SyncEndpointOptions
  readonly #alive = new WeakMap<WebSocket, boolean>()
  readonly #heartbeat: NodeJS.Timeout
  #closing = false

  constructor(ctx: SyncEndpointOptions) {
    this.#ctx = ctx
    // Compression stays off: frames are small JSON and deflate costs memory per socket.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: ctx.limits.maxMessageBytes, perMessageDeflate: false })
    this.#wss.on('connection', (ws) => this.#connect(ws))
    this.#heartbeat = setInterval(() => this.#beat(), ctx.heartbeatMs).unref()
  }

  /** Tells whether a request is for the sync endpoint. */
  matches(req: IncomingMessage): boolean {
    return pathOf(req) === SYNC_PATH
  }

  /** Takes over an upgrade request (from an http server's 'upgrade' event). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    if (this.#closing) return refuse(socket, '503 Service Unavailable')
    if (!this.matches(req)) return refuse(socket, '404 Not Found')
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req))
  }

  /** Refuses new sockets from now on. */
  stopAccepting(): void {
    this.#closing = true
  }

  /** Closes every socket with 1001 (going away) and stops the heartbeat. */
  async close(): Promise<void> {
    this.#closing = true
    clearInterval(this.#heartbeat)
    const sockets = [...this.#wss.clients]
    await Promise.all(sockets.map((ws) => closeSocket(ws)))
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()))
  }

  #connect(ws: WebSocket): void {
    this.#alive.set(ws, true)
    ws.on('pong', () => this.#alive.set(ws, true))
    new SyncConnection(ws, this.#ctx)
  }

  #beat(): void {
    for (const ws of this.#wss.clients) {
      if (this.#alive.get(ws) !== true) {
        ws.terminate()
        continue
      }
      this.#alive.set(ws, false)
      ws.ping()
    }
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

import type { IncomingMessage } from 'node:http'
import { addressOf } from './addressOf.js'
import { ByteBudget } from './ByteBudget.js'
import { ConnectionCounter } from './ConnectionCounter.js'
import type { OriginPolicy } from './OriginPolicy.js'
import { RateLimiter, type RateLimit } from './RateLimiter.js'

/** Seconds a client is told to wait after hitting a connection cap. */
export const CONNECTION_CAP_RETRY_AFTER = 10
/** Seconds a client is told to wait when the server holds its budget of buffered bytes. */
export const BUSY_RETRY_AFTER = 5

/** The resolved abuse limits every endpoint shares. @internal */
export interface ProtectionOptions {
  connectionRate: RateLimit
  addressRate: RateLimit
  maxConnectionsPerUser: number
  maxConnectionsPerAddress: number
  maxSendBufferBytes: number
  /** Bytes a socket may send before its hello is in. */
  maxHelloBytes: number
  /** A socket with bytes waiting to be sent, none of which got written for this long, is cut. */
  sendTimeoutMs: number
  /** Server-wide budget of bytes of frames partly received. */
  maxInboundBytes: number
  /** Server-wide budget of bytes waiting to be written to sockets. */
  maxOutboundBytes: number
  /** Most TCP connections (HTTP and WebSocket) a server made by `listen()` keeps open. */
  maxConnections: number
  origins: OriginPolicy
  trustProxy: boolean
}

/**
 * The server's abuse limits and the state behind them: one token bucket per remote address (shared by WebSocket
 * frames, upgrades and HTTP requests), open connections per address, and the origin policy.
 * @internal
 */
export class Protection {
  readonly options: ProtectionOptions
  /** Bytes of frames partly received, over all sockets. */
  readonly inbound: ByteBudget
  /** Bytes waiting to be written, over all sockets. */
  readonly outbound: ByteBudget
  /** When connections were last looked through for stuck readers (over the outbound budget). */
  shedAt = Number.NEGATIVE_INFINITY
  readonly #addressRate: RateLimiter
  readonly #addressConnections = new ConnectionCounter()

  constructor(options: ProtectionOptions) {
    this.options = options
    this.#addressRate = new RateLimiter(options.addressRate)
    this.inbound = new ByteBudget(options.maxInboundBytes)
    this.outbound = new ByteBudget(options.maxOutboundBytes)
  }

  /** The key per-address limits use for this request. */
  addressOf(req: IncomingMessage): string {
    return addressOf(req, this.options.trustProxy)
  }

  /** Spends one token of the address's bucket. @returns 0, or the seconds to wait. */
  takeAddress(address: string): number {
    return this.#addressRate.take(address)
  }

  /** Whether the address may open one more WebSocket. */
  mayConnect(address: string): boolean {
    return this.#addressConnections.count(address) < this.options.maxConnectionsPerAddress
  }

  /** Counts an open WebSocket of the address (until {@link untrack}). */
  track(address: string): void {
    this.#addressConnections.add(address)
  }

  /** Forgets a WebSocket of the address counted by {@link track}, once it has closed. */
  untrack(address: string): void {
    this.#addressConnections.remove(address)
  }
}

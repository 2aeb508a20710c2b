import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { CubbyErrorCode } from '@cubby/protocol'
import { addressOf } from './addressOf.js'
import { ConnectionCounter } from './ConnectionCounter.js'
import { CONNECTION_CAP_RETRY_AFTER } from './Protection.js'

/** Options of {@link ConnectionGate}. @internal */
export interface ConnectionGateOptions {
  /** Most open connections in all. */
  max: number
  /** Most open connections of one remote address; `undefined` counts none (behind a proxy, all share its address). */
  perAddress: number | undefined
  /** Called with each refusal: `connections` (the server's cap) or `address-connections`. */
  onRefuse?: ((kind: 'connections' | 'address-connections') => void) | undefined
}

/**
 * Caps the TCP connections of an http server, HTTP and WebSocket alike, as they are accepted (its `connection`
 * event), so that idle sockets cannot take every file descriptor the database needs. A connection over a cap is
 * answered `503`/`429` with a `RATE_LIMITED` body and closed at once; requests that still arrive on it are dropped
 * unanswered (see {@link isRefused}).
 * @internal
 */
export class ConnectionGate {
  readonly #options: ConnectionGateOptions
  readonly #perAddress = new ConnectionCounter()
  readonly #refused = new WeakSet<Socket>()
  #open = 0

  constructor(options: ConnectionGateOptions) {
    this.#options = options
  }

  /** How many connections are open. */
  get open(): number {
    return this.#open
  }

  /** Counts a newly accepted socket until it closes, or refuses it. @returns whether it was let in. */
  admit(socket: Socket): boolean {
    const { max, perAddress } = this.#options
    if (this.#open >= max) {
      this.#options.onRefuse?.('connections')
      return this.#refuse(socket, '503 Service Unavailable', 'The server has too many connections open')
    }
    const address = perAddress === undefined ? '' : addressOf({ socket, headers: {} } as IncomingMessage, false)
    if (perAddress !== undefined && this.#perAddress.count(address) >= perAddress) {
      this.#options.onRefuse?.('address-connections')
      return this.#refuse(socket, '429 Too Many Requests', 'Too many connections from this address')
    }
    this.#open++
    this.#perAddress.add(address)
    socket.once('close', () => {
      this.#open--
      this.#perAddress.remove(address)
    })
    return true
  }

  /** Whether a socket was refused (its requests and upgrades must be dropped). */
  isRefused(socket: Socket): boolean {
    return this.#refused.has(socket)
  }

  #refuse(socket: Socket, status: string, message: string): false {
    this.#refused.add(socket)
    const code: CubbyErrorCode = 'RATE_LIMITED'
    const body = JSON.stringify({ error: { code, message, retryAfter: CONNECTION_CAP_RETRY_AFTER } })
    const head = `HTTP/1.1 ${status}\r\nConnection: close\r\nRetry-After: ${CONNECTION_CAP_RETRY_AFTER}\r\nContent-Type: application/json\r\n`
    // Destroyed as soon as the answer is written, not when the client closes: a refused socket must not hold a
    // descriptor either.
    socket.on('error', () => socket.destroy())
    socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => socket.destroy())
    return false
  }
}

import { CLOSE_CODES, CubbyError, PROTOCOL_VERSION, SYNC_PATH, type ErrorMessage, type ServerMessage, isCubbyErrorCode, parseServerMessage } from '@cubby/protocol'
import { asCubbyError } from '../asCubbyError.js'
import { decodeJwtExpiry } from '../auth/decodeJwtSub.js'
import type { CubbyOptions } from '../CubbyOptions.js'
import { backoffDelay } from './backoff.js'
import type { Uplink, UplinkSink } from './Uplink.js'

/**
 * How a client notices a connection that died without a close: after `idleMs` without a frame from the server
 * it sends a `ping`, and when nothing at all arrives within `timeoutMs` after that, it drops the socket and
 * reconnects (a sleeping laptop or a dropped network can leave a browser's socket open for many minutes).
 */
export interface HeartbeatOptions {
  /** @default 25_000 */
  idleMs?: number
  /** @default 10_000 */
  timeoutMs?: number
}

/**
 * What a {@link SyncConnection} needs from its owner: the client's options (`url`, `WebSocket`, `reconnect`,
 * `heartbeat`; a function as `auth` means calling `token` again can help after a 4001 close, or before a JWT's
 * `exp`), and the session's parts.
 */
export interface SyncConnectionOptions extends Pick<CubbyOptions, 'url' | 'WebSocket' | 'auth' | 'reconnect' | 'heartbeat' | 'fetch'> {
  /** A token for the next hello; called before every connection attempt. */
  token: () => Promise<string>
  /** Whether `token` gives a newer token as the last one nears its `exp`, though `auth` is no function. */
  renews?: () => boolean
  /** The cursor to send in the next hello. */
  cursor: () => number
  /** Where frames, states and errors go. */
  sink: UplinkSink
}

/** Renew a token this long before it expires, at most (a tenth of what is left, for short-lived tokens). */
const RENEW_AHEAD_MS = 60_000
/** Longest delay setTimeout takes; a later renewal fires early, which is harmless. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Error frames that come just before the server closes the session; reported (or not) when it closes. */
const isClosingError = (message: ErrorMessage): boolean => message.code === 'UNAUTHORIZED' || message.code === 'PROTOCOL_VERSION'

/** Turns `http(s)://host/base` into `ws(s)://host/base/v1/sync`. */
const syncUrl = (url: string): string => url.replace(/^http/i, 'ws').replace(/\/+$/, '') + SYNC_PATH

/**
 * The WebSocket uplink: one WebSocket to the server at a time; sends `hello`, parses frames, and reconnects
 * with backoff unless the close code says reconnecting cannot help.
 *
 * @internal
 */
export class SyncConnection implements Uplink {
  readonly #options: SyncConnectionOptions
  readonly #sink: UplinkSink
  #socket: WebSocket | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #attempt = 0
  #running = false
  #welcomed = false
  #generation = 0
  #lastError: ErrorMessage | undefined
  /** The server refused a token since the last welcome. */
  #refused = false
  #renewTimer: ReturnType<typeof setTimeout> | undefined
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined
  /** When the current socket last brought a frame. */
  #lastHeard = 0
  /** Whether the base URL was checked since the last welcome (see {@link #checkBaseUrl}). */
  #checked = false

  constructor(options: SyncConnectionOptions) {
    this.#options = options
    this.#sink = options.sink
  }

  /** Connects, and keeps reconnecting until {@link stop}. */
  start(): void {
    if (this.#running) return
    this.#running = true
    this.#sink.state('connecting')
    void this.#open()
  }

  /** Closes the socket and stops reconnecting. */
  stop(): void {
    this.#running = false
    // The renewal timer runs only while a socket is open: #detach clears it.
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#generation++
    const socket = this.#socket
    if (socket) this.#detach()
    socket?.close(1000)
    this.#sink.state('offline')
  }

  /**
   * Skips the wait before the next attempt and resets the backoff (the browser says it is online again, or the
   * page became visible): does nothing while a socket is open or opening.
   */
  retryNow(): void {
    if (!this.#running || this.#timer === undefined) return
    this.#attempt = 0
    clearTimeout(this.#timer)
    this.#timer = undefined
    void this.#open()
  }

  /** Sends a frame if the session is established; returns whether it was sent. */
  send(frame: string): boolean {
    if (!this.#welcomed || this.#socket?.readyState !== 1) return false
    this.#socket.send(frame)
    return true
  }

  async #open(renewed?: string): Promise<void> {
    const generation = ++this.#generation
    let token: string
    try {
      token = renewed ?? (await this.#options.token())
    } catch (cause) {
      if (generation !== this.#generation) return
      this.#sink.error(new CubbyError('UNAUTHORIZED', 'Getting a token failed', { cause }))
      return this.#retry()
    }
    if (generation !== this.#generation) return
    let socket: WebSocket
    try {
      socket = new (this.#options.WebSocket ?? globalThis.WebSocket)(syncUrl(this.#options.url))
    } catch (cause) {
      this.#sink.error(new CubbyError('BAD_MESSAGE', `Cannot open a WebSocket to ${this.#options.url}`, { cause }))
      return this.#retry()
    }
    this.#socket = socket
    this.#lastError = undefined
    let opened = false
    socket.onopen = () => {
      opened = true
      if (socket !== this.#socket) return
      this.#sink.state('connecting')
      // Without echo: the acks of this client's pushes stand for their changes (see Replica.receive).
      socket.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token, cursor: this.#options.cursor(), echo: false }))
    }
    socket.onmessage = (event: MessageEvent) => this.#receive(socket, event.data, token)
    socket.onclose = (event: CloseEvent) => {
      if (!opened && !this.#checked) void this.#checkBaseUrl()
      this.#closed(socket, event.code)
    }
    // An error is always followed by a close event, which is where it is handled.
    socket.onerror = () => {}
  }

  #receive(socket: WebSocket, data: unknown, token: string): void {
    if (socket !== this.#socket) return
    this.#lastHeard = Date.now()
    let message: ServerMessage
    try {
      if (typeof data !== 'string') throw new CubbyError('BAD_MESSAGE', 'The server sent a binary frame')
      message = parseServerMessage(data)
    } catch (error) {
      this.#sink.error(asCubbyError(error, 'BAD_MESSAGE'))
      return
    }
    if (message.type === 'welcome') {
      if (message.v !== PROTOCOL_VERSION) {
        this.#sink.error(new CubbyError('PROTOCOL_VERSION', `The server speaks protocol ${message.v}, this client ${PROTOCOL_VERSION}`), true)
        return this.stop()
      }
      this.#welcomed = true
      this.#checked = false
      this.#attempt = 0
      this.#refused = false
      this.#scheduleRenewal(token)
      // An older server answers a ping with an error frame: ping only one that says it answers.
      if (message.ping === true) this.#startHeartbeat(socket)
    }
    if (message.type === 'pong') return
    if (message.type === 'error') {
      this.#lastError = message
      if (isClosingError(message)) return
    }
    this.#sink.frame(message)
  }

  /**
   * Watches an established session: a `ping` after {@link HeartbeatOptions.idleMs} of silence, and when no frame
   * answers it within {@link HeartbeatOptions.timeoutMs}, the socket is taken for dead: the session ends as if it
   * had closed (offline, then a reconnection with backoff) and the socket is closed without waiting for it.
   */
  #startHeartbeat(socket: WebSocket): void {
    const options = this.#options.heartbeat ?? {}
    if (options === false) return
    const idleMs = options.idleMs ?? 25_000
    const timeoutMs = options.timeoutMs ?? 10_000
    const check = (): void => {
      if (socket !== this.#socket) return
      const silent = Date.now() - this.#lastHeard
      if (silent < idleMs) {
        this.#heartbeatTimer = setTimeout(check, idleMs - silent)
        return
      }
      const asked = Date.now()
      socket.send('{"type":"ping"}')
      this.#heartbeatTimer = setTimeout(() => {
        if (socket !== this.#socket) return
        if (this.#lastHeard >= asked) return check()
        this.#closed(socket, 1006)
        socket.close()
      }, timeoutMs)
    }
    clearTimeout(this.#heartbeatTimer)
    this.#heartbeatTimer = setTimeout(check, idleMs)
  }

  /** Gets a new token shortly before this one's `exp` and moves the session to it. */
  #scheduleRenewal(token: string): void {
    clearTimeout(this.#renewTimer)
    const expiry = this.#renewable() || this.#options.renews?.() === true ? decodeJwtExpiry(token) : undefined
    if (expiry === undefined) return
    const left = expiry - Date.now()
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, left - Math.min(RENEW_AHEAD_MS, left / 10)))
    this.#renewTimer = setTimeout(() => void this.#renew(), delay)
  }

  async #renew(): Promise<void> {
    const socket = this.#socket
    const generation = this.#generation
    let token: string
    try {
      token = await this.#options.token()
    } catch (cause) {
      // The session goes on until the server refuses the old token; the reconnection then asks again.
      if (generation === this.#generation) this.#sink.error(new CubbyError('UNAUTHORIZED', 'Renewing the token failed', { cause }))
      return
    }
    if (generation !== this.#generation || socket === undefined || socket !== this.#socket) return
    // Pending writes stay in the outbox and go again on the new session (exactly once by client id and mid).
    this.#detach()
    socket.close(1000)
    this.#sink.state('connecting')
    void this.#open(token)
  }

  #closed(socket: WebSocket, code: number): void {
    if (socket !== this.#socket) return
    this.#detach()
    this.#sink.state('offline')
    let now = false
    let wait = 0
    if (code === CLOSE_CODES.USER_DELETED) {
      this.#running = false
      this.#sink.userDeleted()
    } else if (code === CLOSE_CODES.RESYNC) {
      // The server's data for this user was replaced: catch up at once.
      this.#attempt = 0
      now = true
    } else if (code === CLOSE_CODES.RATE_LIMITED) {
      wait = (this.#lastError?.retryAfter ?? 0) * 1000
    } else if (code === CLOSE_CODES.PROTOCOL_VERSION) {
      this.#running = false
      this.#report('PROTOCOL_VERSION', 'The server does not support this client version')
    } else if (code === CLOSE_CODES.UNAUTHORIZED) {
      if (!this.#renewable()) {
        this.#running = false
        this.#report('UNAUTHORIZED', 'The server refused the token')
      } else if (this.#refused) {
        this.#report('UNAUTHORIZED', 'The server refused the token, also a renewed one')
      } else {
        // Most likely expired: ask `auth` for a new token at once, and report only if that one is refused too.
        this.#refused = true
        now = true
      }
    }
    this.#retry(now, wait)
  }

  /**
   * A socket failed before it opened, which a browser does not explain: asks the base URL over HTTP, once until
   * the next welcome. Cubby answers `GET /v1/values` without a token with its JSON error; a server that answers
   * otherwise (a 404 page: a wrong base path) is reported as `BAD_MESSAGE` naming the URL, on the `error` event
   * and with the `offline` status. One that cannot be reached says nothing more than the failed attempts.
   */
  async #checkBaseUrl(): Promise<void> {
    this.#checked = true
    const endpoint = `${this.#options.url.replace(/\/+$/, '')}/v1/values`
    let res: Response
    try {
      res = await (this.#options.fetch ?? globalThis.fetch)(endpoint)
    } catch {
      return
    }
    const body = (await res.json().catch(() => undefined)) as { error?: { code?: unknown } } | undefined
    if (res.ok || isCubbyErrorCode(body?.error?.code) || (res.status >= 502 && res.status <= 504) || !this.#running || this.#welcomed) return
    const error = new CubbyError('BAD_MESSAGE', `GET ${endpoint}: HTTP ${res.status}, not from Cubby: is ${this.#options.url} its base URL?`)
    this.#sink.error(error)
    this.#sink.state('offline', error)
  }

  /** Reports why a socket was closed, with the server's message when an error frame gave one. */
  #report(code: 'PROTOCOL_VERSION' | 'UNAUTHORIZED', message: string): void {
    const frame = this.#lastError?.code === code ? this.#lastError : undefined
    this.#sink.error(new CubbyError(code, frame?.message ?? message, frame?.reason === undefined ? {} : { reason: frame.reason }), !this.#running)
  }

  /** Whether calling `token` again can help: `auth` is a function. */
  #renewable(): boolean {
    return typeof this.#options.auth === 'function'
  }

  #detach(): void {
    clearTimeout(this.#renewTimer)
    clearTimeout(this.#heartbeatTimer)
    this.#socket = undefined
    this.#welcomed = false
    this.#sink.closed()
  }

  /** Reconnects after the backoff delay (at least `atLeastMs`, the server's `retryAfter`), or `now`. */
  #retry(now = false, atLeastMs = 0): void {
    if (!this.#running) return
    const delay = now ? 0 : Math.max(atLeastMs, backoffDelay(this.#attempt++, this.#options.reconnect))
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#open()
    }, delay)
  }
}

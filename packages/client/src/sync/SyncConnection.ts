import { CLOSE_CODES, CubbyError, PROTOCOL_VERSION, SYNC_PATH, type ServerMessage, parseServerMessage } from '@cubby/protocol'
import { type ReconnectOptions, backoffDelay } from './backoff.js'

/** What a {@link SyncConnection} needs from its owner. */
export interface SyncConnectionOptions {
  /** The server's http(s) base URL. */
  url: string
  WebSocket: typeof WebSocket
  /** A token for the next hello; called before every connection attempt. */
  token: () => Promise<string>
  /** Whether calling `token` again can help after a 4001 close. */
  renewableToken: boolean
  /** The cursor to send in the next hello. */
  cursor: () => number
  reconnect: ReconnectOptions
  onMessage: (message: ServerMessage) => void
  /** A socket opened (`connecting`) or closed (`offline`). */
  onStatus: (status: 'connecting' | 'offline') => void
  /** The session ended: whatever was sent on it and not acknowledged must be sent again. */
  onClose: () => void
  onError: (error: CubbyError) => void
}

/** Turns `http(s)://host/base` into `ws(s)://host/base/v1/sync`. */
export const syncUrl = (url: string): string => url.replace(/^http/i, 'ws').replace(/\/+$/, '') + SYNC_PATH

/**
 * One WebSocket to the server at a time: sends `hello`, parses frames, and reconnects with backoff unless
 * the close code says reconnecting cannot help.
 *
 * @internal
 */
export class SyncConnection {
  readonly #options: SyncConnectionOptions
  #socket: WebSocket | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #attempt = 0
  #wanted = false
  #welcomed = false
  #generation = 0
  #errorCode: string | undefined

  constructor(options: SyncConnectionOptions) {
    this.#options = options
  }

  /** Whether the server accepted our hello on the current socket. */
  get welcomed(): boolean {
    return this.#welcomed
  }

  /** Connects, and keeps reconnecting until {@link stop}. */
  start(): void {
    if (this.#wanted) return
    this.#wanted = true
    this.#options.onStatus('connecting')
    void this.#open()
  }

  /** Closes the socket and stops reconnecting. */
  stop(): void {
    this.#wanted = false
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#generation++
    const socket = this.#socket
    if (socket) this.#detach()
    socket?.close(1000)
    this.#options.onStatus('offline')
  }

  /** Skips the wait before the next attempt (the browser says it is online again). */
  retryNow(): void {
    if (!this.#wanted || this.#timer === undefined) return
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

  async #open(): Promise<void> {
    const generation = ++this.#generation
    let token: string
    try {
      token = await this.#options.token()
    } catch (cause) {
      if (generation !== this.#generation) return
      this.#options.onError(new CubbyError('UNAUTHORIZED', 'Getting a token failed', { cause }))
      return this.#retry()
    }
    if (generation !== this.#generation) return
    let socket: WebSocket
    try {
      socket = new this.#options.WebSocket(syncUrl(this.#options.url))
    } catch (cause) {
      this.#options.onError(new CubbyError('BAD_MESSAGE', `Cannot open a WebSocket to ${this.#options.url}`, { cause }))
      return this.#retry()
    }
    this.#socket = socket
    this.#errorCode = undefined
    socket.onopen = () => {
      if (socket !== this.#socket) return
      this.#options.onStatus('connecting')
      socket.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token, cursor: this.#options.cursor() }))
    }
    socket.onmessage = (event: MessageEvent) => this.#receive(socket, event.data)
    socket.onclose = (event: CloseEvent) => this.#closed(socket, event.code)
    // An error is always followed by a close event, which is where it is handled.
    socket.onerror = () => {}
  }

  #receive(socket: WebSocket, data: unknown): void {
    if (socket !== this.#socket) return
    let message: ServerMessage
    try {
      if (typeof data !== 'string') throw new CubbyError('BAD_MESSAGE', 'The server sent a binary frame')
      message = parseServerMessage(data)
    } catch (error) {
      this.#options.onError(error instanceof CubbyError ? error : new CubbyError('BAD_MESSAGE', String(error)))
      return
    }
    if (message.type === 'welcome') {
      if (message.v !== PROTOCOL_VERSION) {
        this.#options.onError(new CubbyError('PROTOCOL_VERSION', `The server speaks protocol ${message.v}, this client ${PROTOCOL_VERSION}`))
        return this.stop()
      }
      this.#welcomed = true
      this.#attempt = 0
    }
    if (message.type === 'error') this.#errorCode = message.code
    this.#options.onMessage(message)
  }

  #closed(socket: WebSocket, code: number): void {
    if (socket !== this.#socket) return
    this.#detach()
    this.#options.onStatus('offline')
    if (code === CLOSE_CODES.PROTOCOL_VERSION) {
      this.#wanted = false
      this.#report('PROTOCOL_VERSION', 'The server does not support this client version; update the app')
    } else if (code === CLOSE_CODES.UNAUTHORIZED) {
      this.#report('UNAUTHORIZED', 'The server refused the token')
      if (!this.#options.renewableToken) this.#wanted = false
    }
    this.#retry()
  }

  /** Reports why a socket was closed, unless an error frame already said so. */
  #report(code: 'PROTOCOL_VERSION' | 'UNAUTHORIZED', message: string): void {
    if (this.#errorCode !== code) this.#options.onError(new CubbyError(code, message))
  }

  #detach(): void {
    this.#socket = undefined
    this.#welcomed = false
    this.#options.onClose()
  }

  #retry(): void {
    if (!this.#wanted) return
    const delay = backoffDelay(this.#attempt++, this.#options.reconnect)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#open()
    }, delay)
  }
}

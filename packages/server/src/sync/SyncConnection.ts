import { CLOSE_CODES, CubbyError, PROTOCOL_VERSION, parseClientMessage } from '@cubby/protocol'
import type { CubbyErrorCode, CubbyLimits, MutationResult, PushMessage, ServerMessage } from '@cubby/protocol'
import { WebSocket, type RawData } from 'ws'
import type { Protection } from '../limits/Protection.js'
import { CONNECTION_CAP_RETRY_AFTER } from '../limits/Protection.js'
import { TokenBucket } from '../limits/RateLimiter.js'
import type { CubbyLogger } from '../logger.js'
import type { CubbyStorage } from '../storage/CubbyStorage.js'
import type { Writer } from '../writes/Writer.js'
import type { SyncHub } from './SyncHub.js'
import { parseHello } from './parseHello.js'
import { SyncSession, type SessionChannel } from './SyncSession.js'

/** What every connection shares. @internal */
export interface SyncContext {
  hub: SyncHub
  storage: CubbyStorage
  writer: Writer
  verify(token: string): Promise<string | undefined>
  limits: CubbyLimits
  pullBatchSize: number
  helloTimeoutMs: number
  logger: CubbyLogger
  /** Resolves once the storage is open. */
  ready(): Promise<void>
  /** True once the server is shutting down: pushes are then left unanswered, to be retried elsewhere. */
  isClosing(): boolean
  protection: Protection
}

/** Frames buffered while the hello is verified; more than this (or more than two frames' worth of bytes) is abuse. */
const MAX_QUEUED_FRAMES = 1000
/** What a queued ack result is reckoned to take once sent, for the send buffer limit. */
const ACK_RESULT_BYTES = 64
/** A session may have this many frames' worth of bytes unsent before it slows down to the socket's pace. */
const MAX_BACKLOG_FRAMES = 2
/** 1011: the server hit an unexpected condition (RFC 6455 §7.4.1). */
const INTERNAL_ERROR_CLOSE = 1011

/** A frame as one Buffer (ws hands over an array of fragments or an ArrayBuffer only when asked to). */
const toBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)

/** What `#lastWrite` starts as: nothing is being written. */
const NOTHING_WRITTEN: Promise<void> = Promise.resolve()

const maxRev = (results: MutationResult[]): number => results.reduce((m, r) => ('rev' in r ? Math.max(m, r.rev) : m), 0)

/**
 * One WebSocket: waits for `hello`, authenticates, then runs a {@link SyncSession} and answers pushes.
 * Nothing a client sends can throw out of here.
 *
 * An idle connection is what a server holds thousands of, so this keeps its per-socket objects few: its
 * listeners share one closure context, and the promise of the socket's close is made only when a slow
 * reader has to wait for it.
 * @internal
 */
export class SyncConnection implements SessionChannel {
  readonly socket: WebSocket
  readonly #ctx: SyncContext
  readonly #address: string
  readonly #open: Set<SyncConnection>
  readonly #bucket: TokenBucket
  #session: SyncSession | undefined
  #queue: Array<[RawData, boolean]> | undefined
  #queuedBytes = 0
  #timer: NodeJS.Timeout | undefined
  #lastWrite = NOTHING_WRITTEN
  #ended = false
  /** Whether the client answered the last ping. */
  #alive = true
  #closed: Promise<void> | undefined
  #resolveClosed: (() => void) | undefined

  /** `open` is the set of open connections, which this one leaves when its socket closes. */
  constructor(ws: WebSocket, ctx: SyncContext, address: string, open: Set<SyncConnection>) {
    this.socket = ws
    this.#ctx = ctx
    this.#address = address
    this.#open = open
    this.#bucket = new TokenBucket(ctx.protection.options.connectionRate)
    this.#timer = setTimeout(() => this.end(CLOSE_CODES.HELLO_TIMEOUT, 'No hello in time'), ctx.helloTimeoutMs)
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary))
    ws.on('close', () => this.#onClose())
    ws.on('pong', () => {
      this.#alive = true
    })
    // ws reports protocol errors (bad UTF-8, oversized frames) here, then closes the socket itself.
    ws.on('error', (error) => ctx.logger.warn('WebSocket error', error.message))
  }

  /** The heartbeat: cuts a client that did not answer the last ping, pings the others. */
  beat(): void {
    if (!this.#alive) return void this.socket.terminate()
    this.#alive = false
    this.socket.ping()
  }

  /** Resolves once the socket has closed. */
  #whenClosed(): Promise<void> {
    if (this.#closed === undefined) {
      this.#closed = this.socket.readyState === WebSocket.CLOSED
        ? NOTHING_WRITTEN
        : new Promise((resolve) => (this.#resolveClosed = resolve))
    }
    return this.#closed
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (!this.#ended && this.#spend()) this.#route(data, isBinary)
  }

  #route(data: RawData, isBinary: boolean): void {
    try {
      if (this.#queue !== undefined) this.#enqueue(data, isBinary)
      else if (this.#session !== undefined) this.#handle(data, isBinary)
      else {
        this.#queue = []
        void this.#hello(data, isBinary).catch((error: unknown) => this.#ctx.logger.error('Hello failed', error))
      }
    } catch (error) {
      this.#ctx.logger.error('Unexpected error while handling a frame', error)
    }
  }

  /** Spends a token of the connection's and the address's rate limits; on failure ends the connection. */
  #spend(): boolean {
    const wait = this.#bucket.take() || this.#ctx.protection.takeAddress(this.#address)
    if (wait === 0) return true
    this.#fail('RATE_LIMITED', CLOSE_CODES.RATE_LIMITED, 'Too many frames; reconnect after retryAfter seconds', wait)
    return false
  }

  /** Keeps a frame that arrived while the hello is verified or welcomed, to handle in order after. */
  #enqueue(data: RawData, isBinary: boolean): void {
    const queue = this.#queue!
    this.#queuedBytes += toBuffer(data).length
    if (queue.length < MAX_QUEUED_FRAMES && this.#queuedBytes <= 2 * this.#ctx.limits.maxMessageBytes) queue.push([data, isBinary])
    else this.#fail('BAD_MESSAGE', CLOSE_CODES.BAD_MESSAGE, 'Too many frames before the welcome')
  }

  async #hello(data: RawData, isBinary: boolean): Promise<void> {
    const hello = parseHello(toBuffer(data), isBinary)
    if (!('type' in hello)) return this.#fail(hello.code, hello.closeCode, hello.message)
    try {
      const userId = await this.#ctx.verify(hello.token)
      if (this.socket.readyState !== WebSocket.OPEN) return
      if (userId === undefined) return this.#fail('UNAUTHORIZED', CLOSE_CODES.UNAUTHORIZED, 'The token is missing, invalid or expired')
      await this.#welcome(userId, hello.cursor, hello.echo !== false)
    } catch (error) {
      this.#ctx.logger.error('Could not start a sync session', error)
      this.#fail('INTERNAL', INTERNAL_ERROR_CLOSE, 'The server could not start the session; retry later')
    }
  }

  async #welcome(userId: string, cursor: number, echo: boolean): Promise<void> {
    const ctx = this.#ctx
    const session = new SyncSession({
      userId, cursor, echo, storage: ctx.storage, channel: this, pullBatchSize: ctx.pullBatchSize,
      maxFrameBytes: ctx.limits.maxMessageBytes, maxBacklogBytes: MAX_BACKLOG_FRAMES * ctx.limits.maxMessageBytes,
    })
    await ctx.ready()
    if (this.socket.readyState !== WebSocket.OPEN) return
    if (ctx.hub.count(userId) >= ctx.protection.options.maxConnectionsPerUser) {
      const message = 'This user has too many connections open; close some or retry later'
      return this.#fail('RATE_LIMITED', CLOSE_CODES.RATE_LIMITED, message, CONNECTION_CAP_RETRY_AFTER)
    }
    // Registered before the head is read, so no commit can slip between the head and the catch-up.
    ctx.hub.add(session)
    this.#session = session
    const head = await ctx.storage.head(userId)
    if (this.socket.readyState !== WebSocket.OPEN) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.send({ type: 'welcome', v: PROTOCOL_VERSION, userId, head, ping: true })
    session.start(head)
    const queued = this.#queue ?? []
    this.#queue = undefined
    this.#queuedBytes = 0
    for (const [data, isBinary] of queued) if (!this.#ended) this.#route(data, isBinary)
  }

  #handle(data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new CubbyError('BAD_MESSAGE', 'Binary frames are not supported')
      const message = parseClientMessage(toBuffer(data).toString())
      if (message.type === 'hello') throw new CubbyError('BAD_MESSAGE', 'This session already said hello')
      if (message.type === 'ping') return this.send({ type: 'pong' })
      this.#push(message)
    } catch (error) {
      if (!(error instanceof CubbyError)) throw error
      this.send({ type: 'error', code: error.code, message: error.message })
    }
  }

  #push({ clientId, mutations }: PushMessage): void {
    const session = this.#session!
    if (this.#ctx.isClosing() || this.#overflowing()) return
    void this.#ctx.writer.write(session.userId, mutations, clientId, {
      session,
      answer: (results) => {
        // A commit that failed (the storage is unreachable, e.g. Redis is down) is not answered: an INTERNAL
        // result would make the client drop the write. The socket closes instead; the client keeps its outbox
        // and reconnects with backoff until the storage is back, and its retry is applied exactly once.
        if (results.some((r) => 'error' in r && r.error?.code === 'INTERNAL')) {
          return this.#fail('INTERNAL', INTERNAL_ERROR_CLOSE, 'The server cannot reach its storage; nothing was acknowledged, reconnect')
        }
        session.ack({ type: 'ack', clientId, results }, maxRev(results))
      },
    })
  }

  /** The session's channel: bytes the socket has not written yet. */
  backlog(): number {
    return this.socket.bufferedAmount
  }

  /** The session's channel: resolves once what was sent so far is written, or the socket is gone. */
  drained(): Promise<void> {
    return Promise.race([this.#lastWrite, this.#whenClosed()])
  }

  /** The session's channel: its pump failed. */
  failed(error: unknown): void {
    this.#ctx.logger.error('A sync session failed', error)
    this.end(INTERNAL_ERROR_CLOSE, 'Internal error')
  }

  /** Sends a message if the socket is still open. */
  send(message: ServerMessage): void {
    if (this.socket.readyState !== WebSocket.OPEN) return
    const data = JSON.stringify(message)
    this.#lastWrite = new Promise((resolve) => this.socket.send(data, () => resolve()))
    this.#overflowing()
  }

  /**
   * Cuts a client that does not read: once what waits to be sent to it (the socket's buffer and the acks held
   * back for changes it has not taken yet) passes `maxSendBufferBytes`. A close frame would only queue behind
   * the rest, so the socket is destroyed (the client sees 1006).
   */
  #overflowing(): boolean {
    const pending = this.socket.bufferedAmount + (this.#session?.pendingResults ?? 0) * ACK_RESULT_BYTES
    if (pending <= this.#ctx.protection.options.maxSendBufferBytes) return false
    if (!this.#ended) this.#ctx.logger.warn(`Disconnected a client that stopped reading (${pending} bytes waiting to be sent)`)
    this.#ended = true
    clearTimeout(this.#timer)
    this.#session?.close()
    this.socket.terminate()
    return true
  }

  #fail(code: CubbyErrorCode, closeCode: number, message: string, retryAfter?: number): void {
    this.send(retryAfter === undefined ? { type: 'error', code, message } : { type: 'error', code, message, retryAfter })
    this.end(closeCode, message)
  }

  /** Stops handling frames and closes the socket with `closeCode`. */
  end(closeCode: number, reason: string): void {
    this.#ended = true
    clearTimeout(this.#timer)
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(closeCode, reason.slice(0, 120))
  }

  #onClose(): void {
    clearTimeout(this.#timer)
    this.#open.delete(this)
    this.#ctx.protection.untrack(this.#address)
    this.#resolveClosed?.()
    this.#queue = undefined
    if (this.#session !== undefined) {
      this.#ctx.hub.remove(this.#session)
      this.#session.close()
    }
  }
}

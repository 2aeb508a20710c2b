import { CLOSE_CODES, CubbyError, PROTOCOL_VERSION, parseClientMessage } from '@cubby/protocol'
import type { CubbyErrorCode, CubbyLimits, MutationResult, PushMessage, ServerMessage } from '@cubby/protocol'
import type { Duplex } from 'node:stream'
import { WebSocket, type RawData } from 'ws'
import { DEVICE_REVOKED_FRAME } from '../auth/DeviceLinks.js'
import { NEW_IDENTITY_MESSAGE, type IdentityAdmission } from '../auth/IdentityAdmission.js'
import { UNAUTHORIZED_MESSAGES, type TokenCheck, type TokenRequest } from '../auth/TokenAuth.js'
import type { Protection } from '../limits/Protection.js'
import { BUSY_RETRY_AFTER, CONNECTION_CAP_RETRY_AFTER } from '../limits/Protection.js'
import { TokenBucket } from '../limits/RateLimiter.js'
import type { CubbyLogger } from '../logger.js'
import type { RefusalKind, ServerMetrics } from '../metrics/ServerMetrics.js'
import type { CubbyStorage } from '../storage/CubbyStorage.js'
import { authorizationTime, type Writer } from '../writes/Writer.js'
import { MidOrder } from './MidOrder.js'
import { OpenBatch, resultsByPart, type CompleteBatch } from './OpenBatch.js'
import type { SyncHub } from './SyncHub.js'
import { parseHello } from './parseHello.js'
import { SyncSession, type SessionChannel } from './SyncSession.js'
import { traceStage } from '../traceStage.js'

/** What every connection shares. @internal */
export interface SyncContext {
  hub: SyncHub
  storage: CubbyStorage
  writer: Writer
  /** The token's user, or why it is refused. */
  verify(token: string, request: TokenRequest): Promise<TokenCheck>
  /** New anonymous identities per remote address, issued or self-certified. */
  identities: IdentityAdmission
  limits: CubbyLimits
  pullBatchSize: number
  helloTimeoutMs: number
  logger: CubbyLogger
  /** Resolves once the storage is open. */
  ready(): Promise<void>
  /** True once the server is shutting down: pushes are then left unanswered, to be retried elsewhere. */
  isClosing(): boolean
  protection: Protection
  metrics: ServerMetrics
}

/** Frames buffered while the hello is verified; more than this (or more than two frames' worth of bytes) is abuse. */
const MAX_QUEUED_FRAMES = 1000
/** What a queued ack result is reckoned to take once sent, for the send buffer limit. */
const ACK_RESULT_BYTES = 64
/** A session may have this many frames' worth of bytes unsent before it slows down to the socket's pace. */
const MAX_BACKLOG_FRAMES = 2
/** 1011: the server hit an unexpected condition (RFC 6455 §7.4.1). */
const INTERNAL_ERROR_CLOSE = 1011
/** 1009: a message too big to process (RFC 6455 §7.4.1). */
const TOO_BIG_CLOSE = 1009
/**
 * What a connection told to close before its hello may still send before it is cut (after the hello: a frame
 * more); also the least a socket must hold to be cut when the server is over its inbound budget.
 */
const SLACK_BYTES = 64 * 1024
/** How often, at most, connections are looked through for stuck readers while over the outbound budget. */
const SHED_INTERVAL_MS = 100
/** A reader with nothing written for this long is stuck (for the outbound budget). */
const STUCK_MS = 1000
/** At most this much counted inbound is taken for a control frame rather than a frame partly received. */
const CONTROL_FRAME_BYTES = 256

/** A frame as one Buffer (ws hands over an array of fragments or an ArrayBuffer only when asked to). */
const toBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)

/** What `#lastWrite` starts as: nothing is being written. */
const NOTHING_WRITTEN: Promise<void> = Promise.resolve()

/** The highest rev of the results, counting a `CONFLICT`'s version: the client sees the value that won before the verdict. */
const maxRev = (results: MutationResult[]): number => results.reduce((m, r) => Math.max(m, 'rev' in r ? r.rev : (r.error.rev ?? 0)), 0)

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
  /** The upgrade request's Host header, for the audience of a device token; dropped once the hello is checked. */
  #host: string | undefined
  readonly #open: Set<SyncConnection>
  readonly #bucket: TokenBucket
  #session: SyncSession | undefined
  /** The atomic batch this session is receiving over several frames; dropped with the connection. */
  #batch: OpenBatch | undefined
  /** The highest mid pushed per client id, made on the first push (an idle connection holds none). */
  #mids: MidOrder | undefined
  /** When the session's token was checked (ms): its pushes are refused once a deletion of the user at or after it commits. */
  #authorizedAt = 0
  #queue: Array<[RawData, boolean]> | undefined
  #queuedBytes = 0
  #timer: NodeJS.Timeout | undefined
  #lastWrite = NOTHING_WRITTEN
  #ended = false
  /** Whether the client answered the last ping. */
  #alive = true
  #closed: Promise<void> | undefined
  #resolveClosed: (() => void) | undefined
  /** Whether the first frame (the hello) has come. */
  #greeted = false
  /** Bytes received before the hello, or since the connection was told to close. */
  #received = 0
  /** Bytes received since the last complete frame (counted in the server's inbound budget). */
  #inbound = 0
  /** The socket's unsent bytes as last counted in the server's outbound budget. */
  #outbound = 0
  /** Runs while bytes wait to be sent; a write that completes restarts it. */
  #stall: NodeJS.Timeout | undefined
  /** The socket has closed: nothing is counted any more. */
  #gone = false
  /** When a message last got written, or bytes started to wait (for the outbound budget: who is stuck). */
  #progressAt = 0

  /**
   * `raw` is the socket under `ws`, whose bytes are counted as they arrive (before ws buffers frames);
   * `open` is the set of open connections, which this one leaves when its socket closes.
   */
  constructor(ws: WebSocket, raw: Duplex, ctx: SyncContext, { address, host }: { address: string; host: string | undefined }, open: Set<SyncConnection>) {
    this.socket = ws
    this.#ctx = ctx
    this.#address = address
    this.#host = host
    this.#open = open
    this.#bucket = new TokenBucket(ctx.protection.options.connectionRate)
    this.#timer = setTimeout(() => this.end(CLOSE_CODES.HELLO_TIMEOUT, 'No hello in time'), ctx.helloTimeoutMs)
    // Registered after ws's own listener, so a chunk is counted once ws has taken the frames it completes.
    raw.on('data', (chunk: Buffer) => this.#onData(chunk.length))
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary))
    ws.on('close', () => this.#onClose())
    // ws answers pings itself; they count against the rate limits like any frame.
    ws.on('ping', () => this.#onControl(true))
    ws.on('pong', () => {
      this.#alive = true
      this.#onControl(false)
    })
    // ws reports protocol errors (bad UTF-8, oversized frames) here, then closes the socket itself.
    ws.on('error', (error) => ctx.logger.warn('WebSocket error', error.message, { event: 'connection-error' }))
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

  /**
   * Counts the bytes of a chunk off the wire: before the hello they may not pass `maxHelloBytes`, so no large first
   * frame is ever buffered or parsed; after a close, little more is read; and past the server's inbound budget a
   * socket that holds part of a frame is closed.
   */
  #onData(bytes: number): void {
    if (this.#gone) return
    const protection = this.#ctx.protection
    this.#inbound += bytes
    protection.inbound.add(bytes)
    if (this.#ended) {
      // A client that said hello may have a frame in flight when told to close; one before that gets no more.
      const slack = this.#greeted ? this.#ctx.limits.maxMessageBytes + SLACK_BYTES : SLACK_BYTES
      if ((this.#received += bytes) > slack) this.socket.terminate()
    } else if (!this.#greeted && (this.#received += bytes) > protection.options.maxHelloBytes) {
      this.#tooBig()
    } else if (protection.inbound.exceeded && this.#inbound > SLACK_BYTES) {
      this.#ctx.logger.warn(`Closed a socket: the server holds ${protection.inbound.used} bytes of frames partly received`)
      this.#refuse('busy')
      this.#fail('RATE_LIMITED', CLOSE_CODES.RATE_LIMITED, 'The server is busy; reconnect after retryAfter seconds', BUSY_RETRY_AFTER)
    }
  }

  #tooBig(): void {
    const max = this.#ctx.protection.options.maxHelloBytes
    this.#ctx.metrics.refused('MESSAGE_TOO_LARGE', 'hello')
    this.#fail('MESSAGE_TOO_LARGE', TOO_BIG_CLOSE, `The hello (and everything before it) may be at most ${max} bytes`)
  }

  /** A whole frame has been taken: what was counted for it leaves the inbound budget. */
  #took(): void {
    this.#ctx.protection.inbound.add(-this.#inbound)
    this.#inbound = 0
  }

  /** A ping or pong: spends a token (pings only), and ends the count of a frame if that was all it held. */
  #onControl(ping: boolean): void {
    if (this.#inbound <= CONTROL_FRAME_BYTES) this.#took()
    if (ping && !this.#ended) this.#spend()
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    traceStage('frame')
    this.#took()
    if (this.#ended || !this.#spend()) return
    if (!this.#greeted) {
      this.#greeted = true
      this.#received = 0
      // The first frame is parsed only once it is known to be small.
      if (toBuffer(data).length > this.#ctx.protection.options.maxHelloBytes) return this.#tooBig()
    }
    this.#route(data, isBinary)
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
    this.#refuse('frames')
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
      // Taken before the check, so that a deletion the check did not see is at or after it (see Writer).
      this.#authorizedAt = authorizationTime()
      const checked = await this.#ctx.verify(hello.token, { host: this.#host })
      this.#host = undefined
      if (this.socket.readyState !== WebSocket.OPEN) return
      if (checked.userId === undefined) {
        const { reason } = checked
        this.#ctx.metrics.refused('UNAUTHORIZED', reason)
        this.send({ type: 'error', code: 'UNAUTHORIZED', message: UNAUTHORIZED_MESSAGES[reason], reason })
        return this.end(CLOSE_CODES.UNAUTHORIZED, UNAUTHORIZED_MESSAGES[reason])
      }
      const wait = checked.selfCertified === true ? await this.#ctx.identities.admit(checked.userId, this.#address) : 0
      if (this.socket.readyState !== WebSocket.OPEN) return
      if (wait > 0) {
        this.#ctx.metrics.refused('RATE_LIMITED', 'identity')
        return this.#fail('RATE_LIMITED', CLOSE_CODES.RATE_LIMITED, NEW_IDENTITY_MESSAGE, wait)
      }
      await this.#welcome(checked.userId, hello.cursor, hello.echo !== false, checked.deviceId)
    } catch (error) {
      this.#ctx.logger.error('Could not start a sync session', error, { event: 'storage-error', operation: 'read' })
      this.#ctx.metrics.storageError('read')
      this.#fail('INTERNAL', INTERNAL_ERROR_CLOSE, 'The server could not start the session; retry later')
    }
  }

  async #welcome(userId: string, cursor: number, echo: boolean, deviceId: string | undefined): Promise<void> {
    const ctx = this.#ctx
    const session = new SyncSession({
      userId, cursor, echo, ...(deviceId === undefined ? {} : { deviceId }), storage: ctx.storage, channel: this, pullBatchSize: ctx.pullBatchSize,
      maxFrameBytes: ctx.limits.maxMessageBytes, maxBacklogBytes: MAX_BACKLOG_FRAMES * ctx.limits.maxMessageBytes,
    })
    await ctx.ready()
    if (this.socket.readyState !== WebSocket.OPEN) return
    if (ctx.hub.count(userId) >= ctx.protection.options.maxConnectionsPerUser) {
      const message = 'This user has too many connections open; close some or retry later'
      this.#refuse('user-connections')
      return this.#fail('RATE_LIMITED', CLOSE_CODES.RATE_LIMITED, message, CONNECTION_CAP_RETRY_AFTER)
    }
    // Registered before the head is read, so no commit can slip between the head and the catch-up.
    ctx.hub.add(session)
    this.#session = session
    // A revocation heard after the token's check (which read the device as live) and before this registration.
    if (deviceId !== undefined && ctx.hub.revokedSince(userId, deviceId, this.#authorizedAt)) {
      return session.endWith(DEVICE_REVOKED_FRAME, CLOSE_CODES.UNAUTHORIZED, UNAUTHORIZED_MESSAGES.revoked)
    }
    const head = await ctx.storage.head(userId)
    if (this.socket.readyState !== WebSocket.OPEN) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.send({ type: 'welcome', v: PROTOCOL_VERSION, userId, head, ping: true, now: Date.now() })
    if (cursor < head) ctx.metrics.catchUp(cursor === 0 ? 'snapshot' : 'log')
    session.start(head)
    const queued = this.#queue ?? []
    this.#queue = undefined
    this.#queuedBytes = 0
    for (const [data, isBinary] of queued) if (!this.#ended) this.#route(data, isBinary)
  }

  #handle(data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new CubbyError('BAD_MESSAGE', 'Binary frames are not supported')
      const buffer = toBuffer(data)
      const message = parseClientMessage(buffer.toString())
      if (message.type === 'hello') throw new CubbyError('BAD_MESSAGE', 'This session already said hello')
      if (message.type === 'ping') return this.send({ type: 'pong' })
      if (message.batch !== undefined) return this.#pushPart({ ...message, batch: message.batch }, buffer.length)
      // A plain push while a batch is open would commit mids above the batch's, which would then count as applied.
      if (this.#batch?.open === true) this.#dropBatch(new CubbyError('BAD_MESSAGE', 'A push came before the open batch ended'))
      this.#push(message)
    } catch (error) {
      if (!(error instanceof CubbyError)) throw error
      this.send({ type: 'error', code: error.code, message: error.message })
    }
  }

  #push({ clientId, mutations }: PushMessage, batch?: CompleteBatch): void {
    const session = this.#session!
    if (this.#ctx.isClosing() || this.#overflowing()) return
    if (!this.#inOrder(clientId, mutations, batch)) return
    void this.#ctx.writer.write(session.userId, mutations, {
      clientId,
      authorizedAt: this.#authorizedAt,
      atomic: batch !== undefined,
      origin: {
        session,
        answer: (results) => {
          // A commit that failed (the storage is unreachable, e.g. Redis is down) is not answered: an INTERNAL
          // result would make the client drop the write. The socket closes instead; the client keeps its outbox
          // and reconnects with backoff until the storage is back, and its retry is applied exactly once.
          if (results.some((r) => 'error' in r && r.error?.code === 'INTERNAL')) {
            return this.#fail('INTERNAL', INTERNAL_ERROR_CLOSE, 'The server cannot reach its storage; nothing was acknowledged, reconnect')
          }
          // A batch's every part gets its own ack (the client counts an answer per frame), all at once.
          if (batch === undefined) return session.ack({ type: 'ack', clientId, results }, maxRev(results))
          const rev = maxRev(results)
          for (const part of resultsByPart(batch.parts, results)) session.ack({ type: 'ack', clientId, results: part }, rev)
        },
      },
    })
  }

  /**
   * Whether a push comes after every mid of its client id pushed on this connection before (see {@link MidOrder});
   * if not, every write of it (of every part of its batch) is answered `OUT_OF_ORDER` and nothing of it is written.
   */
  #inOrder(clientId: string, mutations: PushMessage['mutations'], batch: CompleteBatch | undefined): boolean {
    if ((this.#mids ??= new MidOrder()).take(clientId, mutations[0]!.mid, mutations.at(-1)!.mid)) return true
    const error = { code: 'OUT_OF_ORDER' as const, message: 'A higher mid of this client id was pushed before on this connection; nothing of this push was written' }
    const results = mutations.map(({ mid }): MutationResult => ({ mid, error }))
    this.#ctx.metrics.mutations(results)
    for (const part of batch === undefined ? [results] : resultsByPart(batch.parts, results)) this.#session!.ack({ type: 'ack', clientId, results: part }, 0)
    return false
  }

  /** A part of an atomic batch: held until the last part comes, then the whole batch is written at once. */
  #pushPart(message: PushMessage & { batch: { id: string; last?: true } }, bytes: number): void {
    if (this.#ctx.isClosing() || this.#overflowing()) return
    this.#batch ??= new OpenBatch(2 * this.#ctx.limits.maxMessageBytes)
    let complete: CompleteBatch | undefined
    try {
      complete = this.#batch.add(message, bytes)
    } catch (error) {
      if (!(error instanceof CubbyError)) throw error
      return this.#dropBatch(error)
    }
    if (complete !== undefined) this.#push({ type: 'push', clientId: complete.clientId, mutations: complete.mutations }, complete)
  }

  /** Answers every part of the open batch with `error` (as a result per mutation) and drops the batch. */
  #dropBatch(error: CubbyError): void {
    const wire = { code: error.code, message: error.message }
    for (const part of this.#batch!.take().parts) this.#session!.ack({ type: 'ack', clientId: part.clientId, results: part.mids.map((mid) => ({ mid, error: wire })) }, 0)
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
    this.#ctx.logger.error('A sync session failed', error, { event: 'storage-error', operation: 'read' })
    this.#ctx.metrics.storageError('read')
    this.end(INTERNAL_ERROR_CLOSE, 'Internal error')
  }

  /** Sends a message if the socket is still open. */
  send(message: ServerMessage): void {
    if (this.socket.readyState !== WebSocket.OPEN) return
    const data = JSON.stringify(message)
    this.#lastWrite = new Promise((resolve) => this.socket.send(data, () => {
      this.#wrote()
      resolve()
    }))
    if (message.type === 'changes' || message.type === 'ack') traceStage(message.type)
    this.#count()
    if (this.#stall === undefined && this.socket.bufferedAmount > 0) {
      this.#progressAt = performance.now()
      this.#stall = setTimeout(() => this.#stalled(), this.#ctx.protection.options.sendTimeoutMs)
    }
    this.#overflowing()
  }

  /** Brings the server's outbound budget up to date with what this socket has not written. */
  #count(): void {
    if (this.#gone) return
    const now = this.socket.bufferedAmount
    this.#ctx.protection.outbound.add(now - this.#outbound)
    this.#outbound = now
  }

  /** A message got written: the reader is alive, so its stall clock starts over (or stops once all is written). */
  #wrote(): void {
    this.#progressAt = performance.now()
    this.#count()
    if (this.#stall === undefined) return
    if (this.socket.bufferedAmount === 0) {
      clearTimeout(this.#stall)
      this.#stall = undefined
    } else this.#stall.refresh()
  }

  #stalled(): void {
    this.#stall = undefined
    if (this.socket.bufferedAmount === 0) return
    const seconds = this.#ctx.protection.options.sendTimeoutMs / 1000
    this.#cut(`Disconnected a client that stopped reading (nothing written for ${seconds} s, ${this.socket.bufferedAmount} bytes waiting)`)
  }

  /**
   * Cuts a client that does not read: once what waits to be sent to it (the socket's buffer and the acks held
   * back for changes it has not taken yet) passes `maxSendBufferBytes`. A close frame would only queue behind
   * the rest, so the socket is destroyed (the client sees 1006).
   */
  #overflowing(): boolean {
    const { maxSendBufferBytes } = this.#ctx.protection.options
    const outbound = this.#ctx.protection.outbound
    const pending = this.socket.bufferedAmount + (this.#session?.pendingResults ?? 0) * ACK_RESULT_BYTES
    if (pending > maxSendBufferBytes) {
      this.#cut(`Disconnected a client that stopped reading (${pending} bytes waiting to be sent)`)
    } else if (outbound.exceeded) {
      SyncConnection.shed(this.#open, this.#ctx.protection)
      return this.#ended
    } else return false
    return true
  }

  /**
   * Past the server-wide outbound budget, the sockets that hold unsent bytes and got nothing written for a while
   * go, whatever their own limit; readers that keep up stay. Looks at most once per {@link SHED_INTERVAL_MS}.
   */
  static shed(open: Iterable<SyncConnection>, protection: Protection): void {
    const now = performance.now()
    if (now - protection.shedAt < SHED_INTERVAL_MS) return
    protection.shedAt = now
    for (const other of open) {
      const waiting = other.socket.bufferedAmount
      if (waiting > SLACK_BYTES && other.#stall !== undefined && now - other.#progressAt >= STUCK_MS) {
        other.#cut(`Disconnected a client that stopped reading (${waiting} bytes waiting; the server holds ${protection.outbound.used} unsent)`)
      }
    }
  }

  /** Cuts the socket at once: a close frame would only queue behind what the client does not read. */
  #cut(reason: string): void {
    if (!this.#ended) this.#ctx.logger.warn(reason)
    this.#ended = true
    clearTimeout(this.#timer)
    clearTimeout(this.#stall)
    this.#session?.close()
    this.socket.terminate()
  }

  /** Counts a `RATE_LIMITED` refusal of this kind (once per connection: it is ended right after). */
  #refuse(kind: RefusalKind): void {
    if (!this.#ended) this.#ctx.metrics.refused('RATE_LIMITED', kind)
  }

  #fail(code: CubbyErrorCode, closeCode: number, message: string, retryAfter?: number): void {
    this.send(retryAfter === undefined ? { type: 'error', code, message } : { type: 'error', code, message, retryAfter })
    this.end(closeCode, message)
  }

  /** Stops handling frames and closes the socket with `closeCode`. */
  end(closeCode: number, reason: string): void {
    if (!this.#ended) this.#received = 0
    this.#ended = true
    clearTimeout(this.#timer)
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(closeCode, reason.slice(0, 120))
  }

  #onClose(): void {
    clearTimeout(this.#timer)
    clearTimeout(this.#stall)
    this.#took()
    this.#gone = true
    this.#ctx.protection.outbound.add(-this.#outbound)
    this.#outbound = 0
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

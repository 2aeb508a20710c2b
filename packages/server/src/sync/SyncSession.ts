import type { AckMessage, Change, ServerMessage } from '@cubby/protocol'
import type { CubbyStorage } from '../storage/CubbyStorage.js'
import { chunkChanges } from './chunkChanges.js'

/**
 * The connection a {@link SyncSession} sends through. An object with methods (the connection itself), not
 * callbacks: a server holds thousands of idle sessions, and five closures each add up. @internal
 */
export interface SessionChannel {
  send(message: ServerMessage): void
  /** Bytes sent but not yet written to the socket. */
  backlog(): number
  /** Resolves once everything sent so far is written (or the socket is gone). */
  drained(): Promise<void>
  /** The pump failed (storage error): the connection should end. */
  failed(error: unknown): void
  /** Closes the socket with this code (after what was sent so far). */
  end(closeCode: number, reason: string): void
}

/** What a {@link SyncSession} needs from its connection and server. @internal */
export interface SyncSessionOptions {
  userId: string
  /** The id (key thumbprint) of the device whose token opened the session; `undefined` for other tokens. */
  deviceId?: string
  /** The rev the client says it holds. */
  cursor: number
  storage: CubbyStorage
  channel: SessionChannel
  /** Above this backlog the session stops taking changes from memory and reads them from storage as the client keeps up. */
  maxBacklogBytes: number
  /** Changes per storage read while pumping. */
  pullBatchSize: number
  /** Largest frame to build. */
  maxFrameBytes: number
  /** `false` (the client's `hello.echo`): live changes of this session's own pushes are not sent; their acks carry the revs. */
  echo?: boolean
}

/**
 * One authenticated connection's view of its user's changes. It catches up from storage (the pump), then goes
 * live and takes published changes straight from memory. It falls back to the pump whenever it might have
 * missed something, and never sends a change twice or out of order. Acks wait until the changes before them
 * are sent.
 * @internal
 */
export class SyncSession {
  readonly userId: string
  /** The device whose token opened the session (see {@link SyncSessionOptions.deviceId}). */
  readonly deviceId: string | undefined
  readonly #options: SyncSessionOptions
  #rev: number
  /** The highest head heard of (at the welcome, or from a commit). */
  #head = 0
  #live = false
  #scanned = false
  #pumping = false
  #dirty = false
  #closed = false
  #acks: Array<{ needRev: number; message: AckMessage }> = []
  #pendingResults = 0

  constructor(options: SyncSessionOptions) {
    this.#options = options
    this.userId = options.userId
    this.deviceId = options.deviceId
    this.#rev = options.cursor
  }

  /** The last rev sent to the client. */
  get rev(): number {
    return this.#rev
  }

  /** How many mutation results wait in acks held back until their changes are sent. */
  get pendingResults(): number {
    return this.#pendingResults
  }

  /** Starts the catch-up after `welcome`; `synced` follows once it is complete. */
  start(head: number): void {
    this.#head = Math.max(this.#head, head)
    if (this.#rev > head) {
      // The client holds revisions this server never issued (e.g. its data was reset): start it over.
      this.#rev = 0
      this.#send({ type: 'changes', changes: [{ rev: 0, clear: true }], rev: 0 })
    }
    void this.#pump(true)
  }

  /**
   * Takes the changes of a commit of this user (consecutive revs). `own`: this session pushed them; a session
   * without echo then only moves its rev past them, since the ack that follows carries them.
   */
  deliver(changes: readonly Change[], own = false): void {
    const first = changes[0]
    if (first === undefined || this.#closed) return
    this.#head = Math.max(this.#head, changes.at(-1)!.rev)
    // Behind, or a slow reader: read from storage instead, at the pace the socket drains (bounded memory).
    if (!this.#live || first.rev - 1 > this.#rev || this.#options.channel.backlog() > this.#options.maxBacklogBytes) {
      this.#dirty = true
      if (this.#live) void this.#pump(false)
      return
    }
    const fresh = changes.filter((c) => c.rev > this.#rev)
    if (fresh.length === 0) return
    if (own && this.#options.echo === false) this.#rev = fresh.at(-1)!.rev
    else this.#sendChanges(fresh, fresh.at(-1)!.rev)
  }

  /**
   * Reads from storage whatever came after the session's rev: changes may have been missed (a bus that lost
   * messages). Costs one read when nothing was missed.
   */
  catchUp(): void {
    if (this.#closed) return
    this.#dirty = true
    if (this.#live) void this.#pump(false)
  }

  /** Sends an ack once the session has sent every change up to `needRev` (the highest rev of its results). */
  ack(message: AckMessage, needRev: number): void {
    if (this.#closed) return
    this.#acks.push({ needRev, message })
    this.#pendingResults += message.results.length
    if (this.#live && this.#rev < needRev) {
      this.#dirty = true
      void this.#pump(false)
    }
    if (!this.#pumping) this.#flushAcks()
  }

  /** Ends the session after an unexpected error (reported through the channel's `failed`). */
  fail(error: unknown): void {
    if (this.#closed) return
    this.close()
    this.#options.channel.failed(error)
  }

  /** Sends `message` (if any) as the last frame, then closes the socket with `closeCode`. */
  endWith(message: ServerMessage | undefined, closeCode: number, reason: string): void {
    if (this.#closed) return
    if (message !== undefined) this.#send(message)
    this.close()
    this.#options.channel.end(closeCode, reason)
  }

  /** Stops all sending. */
  close(): void {
    this.#closed = true
    this.#acks = []
    this.#pendingResults = 0
  }

  async #pump(initial: boolean): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    this.#live = false
    try {
      let before: number
      do {
        if (this.#options.channel.backlog() > this.#options.maxBacklogBytes) await this.#options.channel.drained()
        if (this.#closed) return
        this.#dirty = false
        before = this.#rev
        // A cold client's catch-up reads the records in one scan; a session that falls behind later reads the log.
        if (initial && before === 0 && this.#head > 0 && !this.#scanned) await this.#scan()
        else {
          const { changes, rev } = await this.#options.storage.changesSince(this.userId, this.#rev, this.#options.pullBatchSize)
          if (this.#closed) return
          if (changes.length > 0) await this.#sendPaced(changes, rev)
          else this.#rev = Math.max(this.#rev, rev)
        }
        if (this.#closed) return
        this.#flushAcks()
      } while (this.#dirty || this.#rev > before)
      if (initial) this.#send({ type: 'synced', rev: this.#rev })
      this.#live = true
      this.#pumping = false
      this.#flushAcks(true)
    } catch (error) {
      this.#pumping = false
      this.fail(error)
    }
  }

  /**
   * Catches up a client that holds nothing from one snapshot of the user's records, in key order (one scan
   * instead of the log's pages of random reads). The frames keep `rev` at the cursor, since they are not in
   * revision order, and the last one carries the snapshot's head; a client cut off half-way starts over. A page
   * is sent once the read after it has told whether it is the last, while the read after that runs. Commits
   * after the snapshot follow from the log, as for any session that is behind.
   */
  async #scan(): Promise<void> {
    this.#scanned = true
    const cursor = this.#rev
    const { pullBatchSize } = this.#options
    const snapshot = await this.#options.storage.snapshot(this.userId)
    let reading: Promise<Change[]> | undefined
    try {
      if (this.#closed) return
      reading = snapshot.next(pullBatchSize)
      let held: Change[] = await reading
      if (snapshot.clearRev > cursor) held.unshift({ rev: snapshot.clearRev, clear: true })
      if (held.length === 0) return
      reading = snapshot.next(pullBatchSize)
      for (;;) {
        const following = await reading
        if (this.#closed) return
        if (following.length === 0) {
          await this.#sendPaced(held, Math.max(cursor, snapshot.head), true)
          return
        }
        reading = snapshot.next(pullBatchSize)
        await this.#sendPaced(held, cursor, true)
        if (this.#closed) return
        held = following
      }
    } finally {
      // A read still running must end before the snapshot is released.
      await reading?.catch(() => undefined)
      await snapshot.close()
    }
  }

  /**
   * Sends a batch read from storage frame by frame, waiting for the socket to drain whenever the backlog is over
   * the limit, so that a catch-up of large values never piles up in memory. `unordered` (a snapshot's page):
   * the frames before the last keep the session's rev, and even the first waits for the socket.
   */
  async #sendPaced(changes: readonly Change[], rev: number, unordered = false): Promise<void> {
    const chunks = chunkChanges(changes, this.#options.maxFrameBytes)
    for (const [i, chunk] of chunks.entries()) {
      if ((i > 0 || unordered) && this.#options.channel.backlog() > this.#options.maxBacklogBytes) await this.#options.channel.drained()
      if (this.#closed) return
      const last = i === chunks.length - 1
      const chunkRev = last ? rev : unordered ? this.#rev : chunk.at(-1)!.rev
      this.#send({ type: 'changes', changes: chunk, rev: chunkRev })
      this.#rev = chunkRev
    }
  }

  #sendChanges(changes: readonly Change[], rev: number): void {
    const chunks = chunkChanges(changes, this.#options.maxFrameBytes)
    chunks.forEach((chunk, i) => {
      this.#send({ type: 'changes', changes: chunk, rev: i === chunks.length - 1 ? rev : chunk.at(-1)!.rev })
    })
    this.#rev = rev
  }

  /** Sends the acks whose changes have been sent; with `all`, also any left (their changes were overwritten). */
  #flushAcks(all = false): void {
    while (this.#acks.length > 0 && (all || this.#acks[0]!.needRev <= this.#rev)) {
      const { message } = this.#acks.shift()!
      this.#pendingResults -= message.results.length
      this.#send(message)
    }
  }

  #send(message: ServerMessage): void {
    if (!this.#closed) this.#options.channel.send(message)
  }
}

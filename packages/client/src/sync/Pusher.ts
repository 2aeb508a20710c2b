import type { PendingWrite } from '../state/PendingWrites.js'
import { pushFrames } from './pushFrames.js'

/** The shortest time between two rounds of pushes of the writes an asynchronous cache made durable (see {@link Pusher.durable}). */
const PUSH_INTERVAL_MS = 8
/**
 * The longest that interval grows to while writes keep coming faster than it (a loop of awaited stores, an
 * import): how late, at most, another device sees such writes.
 */
const MAX_PUSH_INTERVAL_MS = 128
/**
 * How many rounds of pushes may be unanswered at once. With one, a write made just before the answer to the
 * previous one arrived waited for it (in the propagation benchmark, one write at a time, more than half the
 * writes did, which was most of the time from `store` to the socket); with two it leaves at once, and a loop of
 * stores still sends at most two frames per round trip.
 */
const MAX_ROUNDS_IN_FLIGHT = 2

/**
 * The writes that may go now: of each client id, the unsent ones before its first that is not durable yet (a
 * write rewritten in place by an `update` is durable again only once the cache has it) or whose condition still
 * waits for an earlier write's result (see `OutboxEntry.after`). The server takes a mid at or below the last one
 * it applied for a client id as a retry, so a write sent after a later one of its client would be acknowledged
 * without being applied.
 */
function dueNow(writes: Iterable<PendingWrite>): PendingWrite[] {
  const due: PendingWrite[] = []
  const blocked = new Set<string>()
  for (const w of writes) {
    if (w.sent || w.ackedRev !== undefined || blocked.has(w.clientId)) continue
    if (w.durable && !(w.after !== undefined && w.mutation.op !== 'clear' && w.mutation.if === undefined)) due.push(w)
    else blocked.add(w.clientId)
  }
  return due
}

/**
 * When a {@link Replica}'s outbox goes to the server, and in which frames: in rounds, each of the writes that
 * are durable and not sent yet, while the session is established.
 *
 * @internal
 */
export class Pusher {
  /** Every write of the overlay, in order. */
  readonly #writes: () => Iterable<PendingWrite>
  readonly #maxFrameBytes: number
  /** The interval after a pause. */
  readonly #baseIntervalMs: number
  /** The interval now: {@link #baseIntervalMs}, doubled each time a held round carried several writes. */
  #intervalMs: number
  /** Whether the cache writes synchronously (memory): then there is no transaction to wait for. */
  readonly #syncCache: boolean
  #send: ((frame: string) => boolean) | undefined
  #scheduled = false
  /** When the last push frame left, and the timer of a round held until {@link PUSH_INTERVAL_MS} after it. */
  #lastPushAt = -Infinity
  #timer: ReturnType<typeof setTimeout> | undefined
  /**
   * Rounds of pushes of this session not answered yet (a round's frames count as one answer each). While
   * {@link MAX_ROUNDS_IN_FLIGHT} are, new writes wait and leave together in the next round, once an answer
   * arrives: a client storing one value after another then sends at most that many frames per round trip, not
   * one per store, and a lone write still leaves at once. The server answers every push (an `ack`, or an `error`
   * for a frame it could not read) or ends the session, which resets this.
   */
  #inFlight = 0
  /** The frames of each unanswered round, oldest first: a round counts until its last frame is answered. */
  readonly #rounds: number[] = []

  constructor(options: { writes: () => Iterable<PendingWrite>; maxFrameBytes: number; syncCache: boolean; intervalMs?: number | undefined }) {
    this.#writes = options.writes
    this.#maxFrameBytes = options.maxFrameBytes
    this.#syncCache = options.syncCache
    this.#baseIntervalMs = this.#intervalMs = options.intervalMs ?? PUSH_INTERVAL_MS
  }

  /** The session is established: sends the whole outbox, in order. */
  connected(send: (frame: string) => boolean): void {
    this.#send = send
    this.#inFlight = 0
    this.#rounds.length = 0
    this.push(this.#writes())
  }

  /** The session ended: everything unacknowledged goes again on the next one. */
  disconnected(): void {
    this.#send = undefined
    this.#inFlight = 0
    this.#rounds.length = 0
    for (const w of this.#writes()) w.sent = false
  }

  /** Pushes on the next microtask, which still carries every store of the tick in one frame (a synchronous cache). */
  soon(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      this.push(this.#writes())
    })
  }

  /**
   * Sends the writes an asynchronous cache (IndexedDB) made durable: at once (in the same tick as the stores
   * of the batch) when the last round of pushes left at least the interval ago, otherwise once that much time
   * has passed. A write after a pause leaves at once; an app that awaits one store after another sends a frame
   * per interval instead of one per store: on a busy machine the frames, the server's commits and the acks are
   * what each store costs besides its transaction (the browser benchmark's awaited store/s).
   *
   * The interval adapts, from {@link PUSH_INTERVAL_MS} up to {@link MAX_PUSH_INTERVAL_MS}: it doubles each
   * time a round held for it carried more than one write (writes keep coming faster than it), halves when one
   * carried a single write, and starts over after a pause of twice its length. A memory cache has no
   * transaction to wait for and pushes at once.
   */
  durable(): void {
    if (this.#timer !== undefined) return
    const since = Date.now() - this.#lastPushAt
    if (since >= 2 * this.#intervalMs) this.#intervalMs = this.#baseIntervalMs
    const wait = this.#intervalMs - since
    if (wait <= 0) {
      this.push(this.#writes())
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      const sent = this.push(this.#writes())
      if (sent > 1) this.#intervalMs = Math.min(this.#intervalMs * 2, MAX_PUSH_INTERVAL_MS)
      else if (sent === 1) this.#intervalMs = Math.max(this.#intervalMs / 2, this.#baseIntervalMs)
    }, wait)
  }

  /** The server answered a push frame (they are answered in order): once a round is answered, what waited goes in one round. */
  answered(): void {
    if (this.#inFlight === 0) return
    this.#inFlight--
    if (--this.#rounds[0]! > 0) return
    this.#rounds.shift()
    if (this.#syncCache) this.push(this.#writes())
    else this.durable()
  }

  /**
   * Sends those of `writes` that are due, unless {@link MAX_ROUNDS_IN_FLIGHT} rounds are still unanswered;
   * returns how many it sent.
   */
  push(writes: Iterable<PendingWrite>): number {
    if (!this.#send || this.#rounds.length >= MAX_ROUNDS_IN_FLIGHT) return 0
    const due = dueNow(writes)
    if (due.length === 0) return 0
    // A frame that cannot go means the socket is closing; disconnected() then marks everything unsent.
    let frames = 0
    for (const frame of pushFrames(due, this.#maxFrameBytes)) {
      this.#send(frame)
      frames++
      this.#lastPushAt = Date.now()
    }
    this.#inFlight += frames
    this.#rounds.push(frames)
    for (const w of due) {
      w.sent = true
      w.everSent = true
    }
    return due.length
  }

  /** Stops: nothing more is sent. */
  close(): void {
    this.#send = undefined
    clearTimeout(this.#timer)
  }
}

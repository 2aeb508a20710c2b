import type { CubbyError, CubbyErrorCode, ServerMessage, UnauthorizedReason } from '@cubby/protocol'
import type { CubbyStatus, StopReason } from '../CubbyEventMap.js'
import type { Replica } from '../Replica.js'
import type { TabGroup } from './TabGroup.js'
import type { TabEnvelope, TabError, TabMessage } from './TabMessage.js'
import { tabPresenceName } from './TabMessage.js'

/**
 * The leader tab's side of its group, while it holds the election lock: it takes the writes the other tabs
 * announce, answers their joins with where it stands, and relays what its own session applied (server frames,
 * writes, the status) in one ordered stream, each server frame once the cache holds it. It relays only while
 * some tab has joined: a tab alone (the common case) posts nothing per write or per frame.
 *
 * @internal
 */
export class TabLeader {
  readonly #group: TabGroup
  readonly #replica: Replica
  /** The tabs that joined, each with the request for its presence lock (granted when it is gone). */
  readonly #followers = new Map<string, AbortController>()
  #queue: Promise<void> = Promise.resolve()
  #status: CubbyStatus
  /** Why it cannot connect, while the status it went with lasts. */
  #error: TabError | undefined

  constructor(group: TabGroup, replica: Replica, status: CubbyStatus) {
    this.#group = group
    this.#replica = replica
    this.#status = status
  }

  /** A message to the leader: announced writes, a join, a leave. */
  receive({ from, body }: TabEnvelope): void {
    if (body.type === 'writes') {
      const added = this.#replica.addForeign(body.entries)
      if (added.length > 0) this.relay({ type: 'relay', entries: added })
    } else if (body.type === 'join') this.#welcome(from)
    else if (body.type === 'leave') this.#forget(from)
  }

  /** Relays a server frame once the cache write it caused is done; of a `welcome`, the clock offset it taught. */
  relayFrame(message: ServerMessage): void {
    if (message.type === 'welcome') return this.relay({ type: 'clock', offset: this.#replica.clock.offset })
    if (message.type === 'error') return
    this.relay({ type: 'frame', message }, () => this.#replica.flushed())
  }

  /** Relays the connection state, with why it cannot connect when this tab found out (a wrong base path). */
  relayStatus(status: CubbyStatus, error?: CubbyError): void {
    this.#status = status
    this.#error = error && { code: error.code, message: error.message }
    this.relay({ type: 'state', status, ...this.#errorField() })
  }

  /** Tells the other tabs that the connection stopped for good (the server refused it). */
  announceStopped(code: CubbyErrorCode, message: string, reason: StopReason, unauthorized?: UnauthorizedReason): void {
    this.#group.post({ type: 'stopped', code, message, reason, ...(unauthorized === undefined ? {} : { unauthorized }) }, true)
  }

  /** Stops leading: followers show `connecting` until the next leader is online (it says so too). */
  close(): void {
    this.relay({ type: 'state', status: 'connecting' })
    for (const watch of this.#followers.values()) watch.abort()
    this.#followers.clear()
  }

  /**
   * Posts in order, each message after `after` (the cache write it depends on), and only while some tab has
   * joined (a tab that joins later is told where this one stands instead).
   */
  relay(body: TabMessage, after?: () => Promise<void> | undefined): void {
    if (this.#followers.size === 0) return
    const ready = after?.()
    this.#queue = (ready ? this.#queue.then(() => ready) : this.#queue).then(() => this.#group.post(body, true))
  }

  /** A tab joined. Watch its presence, relay from now on, and tell it where this tab stands. */
  #welcome(from: string): void {
    if (!this.#followers.has(from)) {
      const watch = new AbortController()
      this.#followers.set(from, watch)
      this.#group.platform.locks
        .request(tabPresenceName(this.#group.name, from), { signal: watch.signal }, () => {
          // Granted: the tab is gone (closed or crashed without a word).
          if (this.#followers.get(from) === watch) this.#followers.delete(from)
        })
        .catch(() => {}) // aborted: it left, or this tab resigned
    }
    // What this tab did before it heard of the new one is what the new one may have missed; it is in the cache
    // once the writes queued so far are done. Everything after is relayed (queued after this).
    const replica = this.#replica
    const body: TabMessage = { type: 'joined', to: from, status: this.#status, ...this.#errorField(), cursor: replica.cursor, writes: replica.durableWrites(), acks: replica.acknowledged(), clockOffset: replica.clock.offset }
    this.relay(body, () => replica.flushed())
  }

  #errorField(): { error?: TabError } {
    return this.#error === undefined ? {} : { error: this.#error }
  }

  #forget(from: string): void {
    this.#followers.get(from)?.abort()
    this.#followers.delete(from)
  }
}

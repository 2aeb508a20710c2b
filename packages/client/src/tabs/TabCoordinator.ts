import type { CubbyErrorCode, ServerMessage } from '@cubby/protocol'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import type { CubbyStatus, StopReason } from '../CubbyEventMap.js'
import type { Replica } from '../Replica.js'
import { randomClientId } from '../sync/randomClientId.js'
import { type TabEnvelope, type TabMessage, tabGroupName, tabPresenceName } from './TabMessage.js'

/** What a {@link TabCoordinator} drives in its client. @internal */
export interface TabHost {
  /** This tab holds the lock now: connect (its frames are relayed with {@link TabCoordinator.relayFrame}). */
  lead(): void
  /** This tab no longer leads: close the connection. */
  unlead(): void
  /** The leader's connection state, for a follower. */
  setStatus(status: CubbyStatus): void
  /** The user's local data is gone (another tab signed out, or the server deleted the user). */
  gone(code: CubbyErrorCode, message: string): void
  /** The leader's connection stopped for good: report it as this tab's own. */
  stopped(code: CubbyErrorCode, message: string, reason: StopReason): void
}

/** The platform parts coordination needs; present in browsers, not in Node. @internal */
export interface TabPlatform {
  locks: LockManager
  BroadcastChannel: typeof BroadcastChannel
}

/** The outbox entry of a write, without what this tab keeps with it (for posting). */
const outboxEntry = ({ seq, clientId, mutation }: OutboxEntry): OutboxEntry => ({ seq, clientId, mutation })

/** The Web Locks and BroadcastChannel of this platform, when it has both. @internal */
export function tabPlatform(): TabPlatform | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  const Channel = globalThis.BroadcastChannel as typeof BroadcastChannel | undefined
  return typeof locks?.request === 'function' && typeof Channel === 'function' ? { locks, BroadcastChannel: Channel } : undefined
}

/**
 * Makes the tabs of one (name, user) share one connection. Every attached tab asks for a Web Lock; the tab
 * holding it is the leader: it alone connects, pushes the shared outbox (its own writes and those the others
 * announce), persists server data, and relays what it applies to the others over a BroadcastChannel, in one
 * ordered stream. Followers write to the shared outbox, announce their writes to the leader, and apply the
 * leader's stream to their memory, so every tab shows the same state. When the leader goes, the next waiting
 * tab gets the lock, reads the outbox again and connects; exactly-once by (clientId, mid) covers replays.
 *
 * The leader relays only while some tab has joined: a tab alone (the common case) posts nothing per write or
 * per frame. A tab joins when it starts listening, before it reads the cache, holding a presence lock that the
 * leader waits on, so that a tab that closes or crashes without saying `leave` is forgotten all the same. The
 * leader answers a join, once the cache holds everything it did before, with its cursor and overlay; the new
 * tab reads the cache again if the leader's cursor is ahead of what it loaded (a frame persisted between its
 * read and the leader hearing of it), holding back the stream meanwhile.
 *
 * @internal
 */
export class TabCoordinator {
  readonly #platform: TabPlatform
  readonly #name: string
  readonly #host: TabHost
  readonly #id = randomClientId()
  #replica: Replica | undefined
  #channel: BroadcastChannel | undefined
  /** Messages held back: before {@link attach}, and while catching up after the leader's `joined`. */
  #buffer: TabEnvelope[] = []
  #catchingUp = false
  #lockRequest: AbortController | undefined
  #release: (() => void) | undefined
  /** This tab's presence lock, held from {@link listen} to {@link detach}. */
  #presence: AbortController | undefined
  #present = false
  #leading = false
  /** Leader: the tabs that joined, each with the request for its presence lock (granted when it is gone). */
  readonly #followers = new Map<string, AbortController>()
  #queue: Promise<void> = Promise.resolve()
  #status: CubbyStatus = 'connecting'

  constructor(options: { platform: TabPlatform; name: string; userId: string; host: TabHost }) {
    this.#platform = options.platform
    this.#name = tabGroupName(options.name, options.userId)
    this.#host = options.host
  }

  /** Whether this tab holds the connection. */
  get leading(): boolean {
    return this.#leading
  }

  /** Whether this tab takes part (follows, or leads, or waits to). */
  get attached(): boolean {
    return this.#replica !== undefined
  }

  /** Starts listening and joins, keeping messages until {@link attach}: call it before reading the cache. */
  listen(): void {
    if (this.#channel) return
    this.#channel = new this.#platform.BroadcastChannel(this.#name)
    this.#channel.onmessage = (event: MessageEvent<TabEnvelope>) => {
      if (this.#replica && !this.#catchingUp) this.#receive(event.data)
      else this.#buffer.push(event.data)
    }
    this.#join()
  }

  /**
   * Takes part: applies what arrived since {@link listen} and waits for the lock. A tab that was not listening
   * (it was detached) first catches up with the cache and announces its writes.
   */
  async attach(replica: Replica): Promise<void> {
    const resync = this.#channel === undefined
    this.listen()
    if (resync) await replica.resync()
    if (!this.#channel) return // detached meanwhile
    this.#replica = replica
    this.#drain()
    if (resync) this.#post({ type: 'writes', entries: [...replica.state.pending.values()].filter((w) => w.durable && w.ackedRev === undefined) })
    this.#requestLock()
  }

  /** Stops taking part: gives up the lock (and so the connection), leaves, and stops listening. */
  detach(): void {
    this.#resign()
    this.#lockRequest?.abort()
    this.#lockRequest = undefined
    if (this.#presence) this.#post({ type: 'leave' })
    this.#presence?.abort()
    this.#presence = undefined
    this.#present = false
    this.#channel?.close()
    this.#channel = undefined
    this.#replica = undefined
    this.#buffer = []
    this.#catchingUp = false
  }

  /** Leader: relays a server frame once the cache write it caused is done. */
  relayFrame(message: ServerMessage): void {
    if (!this.#leading || message.type === 'welcome' || message.type === 'error') return
    this.#relay({ type: 'frame', message }, () => this.#replica!.flushed())
  }

  /** Leader: relays its connection state. */
  relayStatus(status: CubbyStatus): void {
    this.#status = status
    if (this.#leading) this.#relay({ type: 'state', status })
  }

  /** This tab's writes are durable in the outbox: the leader relays them, a follower announces them. */
  durable(entries: readonly OutboxEntry[]): void {
    if (this.#leading) this.#relay({ type: 'relay', entries: [...entries] })
    else if (this.#replica) this.#post({ type: 'writes', entries: [...entries] })
  }

  /** Leader: tells the other tabs that its connection stopped for good (the server refused it). */
  announceStopped(code: CubbyErrorCode, message: string, reason: StopReason): void {
    if (this.#leading) this.#post({ type: 'stopped', code, message, reason })
  }

  /** Tells the other tabs that the user's local data is gone. */
  announceGone(code: CubbyErrorCode, message: string): void {
    this.#post({ type: 'gone', code, message })
  }

  #receive(envelope: TabEnvelope): void {
    const { from, leader, body } = envelope
    const replica = this.#replica!
    if (body.type === 'gone') return this.#host.gone(body.code, body.message)
    if (this.#leading) {
      if (body.type === 'writes') {
        const added = replica.addForeign(body.entries)
        if (added.length > 0) this.#relay({ type: 'relay', entries: added.map(outboxEntry) })
      } else if (body.type === 'join') this.#welcome(from)
      else if (body.type === 'leave') this.#forget(from)
      return
    }
    if (!leader) return
    switch (body.type) {
      case 'frame':
        if (body.message.type === 'user-deleted') return this.#host.gone('UNAUTHORIZED', 'The server deleted this user')
        replica.receive(body.message, true)
        return
      case 'relay':
        replica.addForeign(body.entries)
        return
      case 'state':
        return this.#host.setStatus(body.status)
      case 'stopped':
        return this.#host.stopped(body.code, body.message, body.reason)
      case 'joined':
        if (body.to === this.#id) this.#joined(body)
        return
      case 'lead':
        return this.#join()
      case 'writes': case 'join': case 'leave': // for the leader
        return
    }
  }

  /** Joins (again): once this tab holds its presence lock, so that the leader's wait on it means "gone". */
  #join(): void {
    if (this.#presence) {
      if (this.#present) this.#post({ type: 'join' })
      return
    }
    const request = (this.#presence = new AbortController())
    this.#platform.locks
      .request(tabPresenceName(this.#name, this.#id), { signal: request.signal }, () => {
        if (request.signal.aborted) return
        this.#present = true
        this.#post({ type: 'join' })
        return new Promise<void>((release) => request.signal.addEventListener('abort', () => release(), { once: true }))
      })
      .catch(() => {}) // aborted while waiting: this tab detached or closed
  }

  /** Leader: a tab joined. Watch its presence, relay from now on, and tell it where this tab stands. */
  #welcome(from: string): void {
    if (!this.#followers.has(from)) {
      const watch = new AbortController()
      this.#followers.set(from, watch)
      this.#platform.locks
        .request(tabPresenceName(this.#name, from), { signal: watch.signal }, () => {
          // Granted: the tab is gone (closed or crashed without a word).
          if (this.#followers.get(from) === watch) this.#followers.delete(from)
        })
        .catch(() => {}) // aborted: it left, or this tab resigned
    }
    // What this tab did before it heard of the new one is what the new one may have missed; it is in the cache
    // once the writes queued so far are done. Everything after is relayed (queued after this).
    const { state } = this.#replica!
    const writes = [...state.pending.values()].filter((w) => w.durable).map(outboxEntry)
    const acks = this.#replica!.acknowledged()
    const cursor = state.cursor
    this.#relay({ type: 'joined', to: from, status: this.#status, cursor, writes, acks }, () => this.#replica?.flushed())
  }

  #forget(from: string): void {
    this.#followers.get(from)?.abort()
    this.#followers.delete(from)
  }

  /** Follower: the leader heard of this tab; take what it has, and read the cache again if it is ahead. */
  #joined(body: Extract<TabMessage, { type: 'joined' }>): void {
    const replica = this.#replica!
    replica.addForeign(body.writes)
    for (const ack of body.acks) replica.receive(ack, true)
    if (body.cursor > replica.state.cursor) {
      this.#catchingUp = true
      void replica
        .resync()
        .catch(() => {}) // the stream goes on; a later leader's catch-up reads the cache again
        .then(() => {
          if (this.#replica !== replica) return
          this.#catchingUp = false
          this.#drain()
        })
    }
    this.#host.setStatus(body.status)
  }

  /** Applies held-back messages in order, until one starts a catch-up. */
  #drain(): void {
    while (!this.#catchingUp && this.#replica) {
      const envelope = this.#buffer.shift()
      if (!envelope) return
      this.#receive(envelope)
    }
  }

  #requestLock(): void {
    if (this.#lockRequest) return
    const request = (this.#lockRequest = new AbortController())
    this.#platform.locks
      .request(this.#name, { signal: request.signal }, () => {
        if (request.signal.aborted) return
        return new Promise<void>((release) => {
          this.#release = release
          void this.#lead()
        })
      })
      .catch(() => {}) // aborted while waiting: this tab detached or closed
  }

  async #lead(): Promise<void> {
    const replica = this.#replica!
    this.#leading = true
    // Held-back messages: a leader takes only joins and announced writes from them.
    this.#catchingUp = false
    this.#drain()
    // The tabs that listen join this one (they may have joined the previous leader only).
    this.#post({ type: 'lead' })
    // Writes announced while no tab led are in the outbox only: take them, and tell the other tabs.
    const added = await replica.resync().catch(() => [])
    if (!this.#leading) return
    if (added.length > 0) this.#relay({ type: 'relay', entries: added })
    this.#host.lead()
  }

  #resign(): void {
    if (!this.#leading) return
    this.#leading = false
    this.#host.unlead()
    // Another tab takes over: followers show `connecting` until it is online (the new leader says so too).
    this.#relay({ type: 'state', status: 'connecting' })
    for (const watch of this.#followers.values()) watch.abort()
    this.#followers.clear()
    this.#release?.()
    this.#release = undefined
    this.#lockRequest = undefined
  }

  /**
   * Leader: posts in order, each message after `after` (the cache write it depends on), and only while some
   * tab has joined (a tab that joins later is told where this one stands instead).
   */
  #relay(body: TabMessage, after?: () => Promise<void> | undefined): void {
    if (this.#followers.size === 0) return
    const ready = after?.()
    this.#queue = (ready ? this.#queue.then(() => ready) : this.#queue).then(() => this.#post(body, true))
  }

  #post(body: TabMessage, leader = this.#leading): void {
    try {
      this.#channel?.postMessage({ from: this.#id, leader, body } satisfies TabEnvelope)
    } catch {
      // Closed while a relay was queued.
    }
  }
}

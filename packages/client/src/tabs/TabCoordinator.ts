import type { CubbyErrorCode, ServerMessage } from '@cubby/protocol'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import type { CubbyStatus } from '../CubbyEventMap.js'
import type { Replica } from '../Replica.js'
import { randomClientId } from '../sync/randomClientId.js'
import { type TabEnvelope, type TabMessage, tabGroupName } from './TabMessage.js'

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
}

/** The platform parts coordination needs; present in browsers, not in Node. @internal */
export interface TabPlatform {
  locks: LockManager
  BroadcastChannel: typeof BroadcastChannel
}

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
 * @internal
 */
export class TabCoordinator {
  readonly #platform: TabPlatform
  readonly #name: string
  readonly #host: TabHost
  readonly #id = randomClientId()
  #replica: Replica | undefined
  #channel: BroadcastChannel | undefined
  #buffer: TabEnvelope[] = []
  #lockRequest: AbortController | undefined
  #release: (() => void) | undefined
  #leading = false
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

  /** Starts listening, keeping messages until {@link attach}: call it before reading the cache. */
  listen(): void {
    if (this.#channel) return
    this.#channel = new this.#platform.BroadcastChannel(this.#name)
    this.#channel.onmessage = (event: MessageEvent<TabEnvelope>) => {
      if (this.#replica) this.#receive(event.data)
      else this.#buffer.push(event.data)
    }
  }

  /**
   * Takes part: applies what arrived since {@link listen}, asks the leader for its state, and waits for the
   * lock. A tab that was not listening (it was detached) first catches up with the cache and announces its
   * writes.
   */
  async attach(replica: Replica): Promise<void> {
    const resync = this.#channel === undefined
    this.listen()
    if (resync) await replica.resync()
    if (!this.#channel) return // detached meanwhile
    this.#replica = replica
    for (const envelope of this.#buffer.splice(0)) this.#receive(envelope)
    if (resync) this.#post({ type: 'writes', entries: [...replica.state.pending.values()].filter((w) => w.durable && w.ackedRev === undefined) })
    this.#post({ type: 'join' })
    this.#requestLock()
  }

  /** Stops taking part: gives up the lock (and so the connection) and stops listening. */
  detach(): void {
    this.#resign()
    this.#lockRequest?.abort()
    this.#lockRequest = undefined
    this.#channel?.close()
    this.#channel = undefined
    this.#replica = undefined
    this.#buffer = []
  }

  /** Leader: relays a server frame once the cache write it caused is done. */
  relayFrame(message: ServerMessage): void {
    if (!this.#leading || message.type === 'welcome' || message.type === 'error') return
    this.#relay({ type: 'frame', message }, this.#replica!.flushed())
  }

  /** Leader: relays its connection state. */
  relayStatus(status: CubbyStatus): void {
    this.#status = status
    if (this.#leading) this.#relay({ type: 'state', status, acks: [] })
  }

  /** This tab's writes are durable in the outbox: the leader relays them, a follower announces them. */
  durable(entries: readonly OutboxEntry[]): void {
    if (this.#leading) this.#relay({ type: 'relay', entries: [...entries] })
    else if (this.#replica) this.#post({ type: 'writes', entries: [...entries] })
  }

  /** Tells the other tabs that the user's local data is gone. */
  announceGone(code: CubbyErrorCode, message: string): void {
    this.#post({ type: 'gone', code, message })
  }

  #receive({ leader, body }: TabEnvelope): void {
    const replica = this.#replica!
    if (body.type === 'gone') return this.#host.gone(body.code, body.message)
    if (this.#leading) {
      if (body.type === 'writes') {
        const added = replica.addForeign(body.entries)
        if (added.length > 0) this.#relay({ type: 'relay', entries: added.map(({ seq, clientId, mutation }) => ({ seq, clientId, mutation })) })
      } else if (body.type === 'join') {
        this.#relay({ type: 'state', status: this.#status, acks: replica.acknowledged() })
      }
      return
    }
    if (!leader) return
    switch (body.type) {
      case 'frame':
        if (body.message.type === 'user-deleted') return this.#host.gone('UNAUTHORIZED', 'The server deleted this user')
        return replica.receive(body.message, true)
      case 'relay':
        replica.addForeign(body.entries)
        return
      case 'state':
        for (const ack of body.acks) replica.receive(ack, true)
        return this.#host.setStatus(body.status)
      case 'writes':
      case 'join':
        return
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
    this.#relay({ type: 'state', status: 'connecting', acks: [] })
    this.#release?.()
    this.#release = undefined
    this.#lockRequest = undefined
  }

  /** Posts in order, each message after `after` (the cache write it depends on). */
  #relay(body: TabMessage, after: Promise<void> = Promise.resolve()): void {
    this.#queue = this.#queue.then(() => after).then(() => this.#post(body, true))
  }

  #post(body: TabMessage, leader = this.#leading): void {
    try {
      this.#channel?.postMessage({ from: this.#id, leader, body } satisfies TabEnvelope)
    } catch {
      // Closed while a relay was queued.
    }
  }
}

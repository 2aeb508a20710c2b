import type { CubbyErrorCode, UnauthorizedReason } from '@cubby/protocol'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import type { CubbyStatus, StopReason } from '../CubbyEventMap.js'
import type { Replica } from '../Replica.js'
import type { Uplink } from '../sync/Uplink.js'
import { TabGroup, type TabPlatform } from './TabGroup.js'
import { TabLeader } from './TabLeader.js'
import type { TabEnvelope, TabError, TabMessage } from './TabMessage.js'

/** What a {@link TabUplink} reports to: the {@link Link} that chose it. @internal */
export interface TabUplinkSink {
  /** This tab holds the election lock now: connect, and relay through `leader`. */
  lead(leader: TabLeader): void
  /** This tab no longer leads: close the connection. */
  unlead(): void
  /** The leader's connection state, with why it cannot connect when it found out. */
  leaderStatus(status: CubbyStatus, error?: TabError): void
  /** The user's local data is gone (another tab signed out, or the server deleted the user). */
  gone(code: CubbyErrorCode, message: string): void
  /** The leader's connection stopped for good: report it as this tab's own. */
  stopped(code: CubbyErrorCode, message: string, reason: StopReason, unauthorized?: UnauthorizedReason): void
  /** Taking part failed (the shared cache could not be read). */
  failed(error: unknown): void
}

/**
 * A follower tab's uplink: the channel to the tab that leads, which holds the only WebSocket of the tabs of
 * one (name, user). The leader's stream (server frames it applied and persisted, writes of the tabs, its
 * status) goes into this tab's {@link Replica} in order, to memory only; this tab's writes, durable in the
 * shared outbox, are announced to the leader. Every tab that takes part waits for the election lock: when
 * this one is granted it, it catches up with the cache and leads (see {@link TabLeader}); exactly-once by
 * (clientId, mid) covers replays.
 *
 * A tab joins when it starts listening, before it reads the cache; the leader answers, once the cache holds
 * everything it did before, with its cursor and overlay, and this tab reads the cache again if the leader's
 * cursor is ahead of what it loaded, holding back the stream meanwhile.
 *
 * @internal
 */
export class TabUplink implements Uplink {
  readonly #group: TabGroup
  readonly #sink: TabUplinkSink
  readonly #replica: () => Replica
  #attached: Replica | undefined
  #leader: TabLeader | undefined

  constructor(options: { platform: TabPlatform; name: string; userId: string; replica: () => Replica; sink: TabUplinkSink }) {
    this.#group = new TabGroup({ ...options, receive: (envelope) => this.#receive(envelope) })
    this.#sink = options.sink
    this.#replica = options.replica
    // Listening and joining start at once, keeping messages until start(): it is made before the cache is read.
    this.#group.listen()
  }

  /** Whether this tab takes part (follows, or leads, or waits to). */
  get attached(): boolean {
    return this.#attached !== undefined
  }

  /** Takes part: follows the leader, and waits for the election lock. */
  start(): void {
    this.#attach().catch((error: unknown) => this.#sink.failed(error))
  }

  /** Stops taking part: gives up the lock (and so the connection), leaves, and stops listening. */
  stop(): void {
    this.#resign()
    this.#group.close()
    this.#attached = undefined
  }

  /** The leader reconnects by itself; a follower has no wait to skip. */
  retryNow(): void {}

  /** Tells the other tabs that the user's local data is gone. */
  announceGone(code: CubbyErrorCode, message: string): void {
    this.#group.post({ type: 'gone', code, message }, this.#leader !== undefined)
  }

  /** This tab's writes are durable in the shared outbox: the leader relays them, a follower announces them. */
  durable(entries: readonly OutboxEntry[]): void {
    if (this.#leader) this.#leader.relay({ type: 'relay', entries: [...entries] })
    else if (this.#attached) this.#group.post({ type: 'writes', entries: [...entries] }, false)
  }

  /**
   * Applies what arrived since this uplink was made (or listened again) and waits for the lock. A tab that was
   * not listening (it was detached) first catches up with the cache and announces its writes.
   */
  async #attach(): Promise<void> {
    if (this.#attached) return
    const replica = this.#replica()
    const resync = !this.#group.listening
    this.#group.listen()
    if (resync) await replica.resync()
    if (!this.#group.listening) return // detached meanwhile
    this.#attached = replica
    this.#group.release()
    if (resync) this.#group.post({ type: 'writes', entries: replica.durableWrites(true) }, false)
    this.#group.elect(() => void this.#lead(replica))
  }

  #receive(envelope: TabEnvelope): void {
    const { leader, body } = envelope
    if (body.type === 'gone') return this.#sink.gone(body.code, body.message)
    if (this.#leader) return this.#leader.receive(envelope)
    if (!leader) return
    const replica = this.#attached!
    switch (body.type) {
      case 'frame':
        if (body.message.type === 'user-deleted') return this.#sink.gone('UNAUTHORIZED', 'The server deleted this user')
        return replica.follow(body.message)
      case 'relay':
        replica.addForeign(body.entries)
        return
      case 'clock':
        return replica.followClock(body.offset)
      case 'state':
        return this.#sink.leaderStatus(body.status, body.error)
      case 'stopped':
        return this.#sink.stopped(body.code, body.message, body.reason, body.unauthorized)
      case 'joined':
        if (body.to === this.#group.id) this.#joined(replica, body)
        return
      case 'lead':
        return this.#group.join()
      case 'writes': case 'join': case 'leave': // for the leader
        return
    }
  }

  /** The leader heard of this tab; take what it has, and read the cache again if it is ahead. */
  #joined(replica: Replica, body: Extract<TabMessage, { type: 'joined' }>): void {
    replica.followClock(body.clockOffset)
    replica.addForeign(body.writes)
    for (const ack of body.acks) replica.follow(ack)
    if (body.cursor > replica.cursor) {
      this.#group.hold()
      void replica
        .resync()
        .catch(() => {}) // the stream goes on; a later leader's catch-up reads the cache again
        .then(() => {
          if (this.#attached === replica) this.#group.release()
        })
    }
    this.#sink.leaderStatus(body.status, body.error)
  }

  async #lead(replica: Replica): Promise<void> {
    const leader = (this.#leader = new TabLeader(this.#group, replica, 'connecting'))
    // Held-back messages: a leader takes only joins and announced writes from them.
    this.#group.release()
    // The tabs that listen join this one (they may have joined the previous leader only).
    this.#group.post({ type: 'lead' }, true)
    // Writes announced while no tab led are in the outbox only: take them, and tell the other tabs.
    const added = await replica.resync().catch(() => [])
    if (this.#leader !== leader) return
    if (added.length > 0) leader.relay({ type: 'relay', entries: added })
    this.#sink.lead(leader)
  }

  #resign(): void {
    const leader = this.#leader
    if (!leader) return
    this.#leader = undefined
    this.#sink.unlead()
    leader.close()
  }
}

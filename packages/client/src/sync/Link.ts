import type { ServerMessage } from '@cubby/protocol'
import { CubbyError, type CubbyErrorCode, type UnauthorizedReason } from '@cubby/protocol/core'
import { asCubbyError } from '../asCubbyError.js'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import type { CubbyStatus, StopReason } from '../CubbyEventMap.js'
import type { CubbyOptions } from '../CubbyOptions.js'
import type { Session } from '../loadReplica.js'
import type { Replica } from '../Replica.js'
import type { tabPlatform } from '../tabs/TabGroup.js'
import type { TabLeader } from '../tabs/TabLeader.js'
import type { TabError } from '../tabs/TabMessage.js'
import type { TabUplink, TabUplinkSink } from '../tabs/TabUplink.js'
import type { SyncConnection } from './SyncConnection.js'
import type { Uplink, UplinkSink } from './Uplink.js'

/** What a {@link Link} reports to the client. @internal */
export interface LinkEvents {
  /** The connection state changed (or, forced, is announced again once the cache is open, or with why it cannot connect). */
  status(status: CubbyStatus, error?: CubbyError): void
  /** The first catch-up is complete, here or in the leader tab. */
  ready(): void
  error(error: CubbyError, stopped?: StopReason): void
  /** The user's local data is gone: forget it and close; with `destroy`, delete the local database too. */
  gone(error: CubbyError, destroy: boolean): void
}

/**
 * The connection state of a client and the choice of its {@link Uplink}: the only place that knows the
 * `status` and whether the app wants to be connected. A tab alone connects its WebSocket; with other tabs of
 * its (name, user), its uplink is the channel to the leader ({@link TabUplink}) until it leads, and then the
 * WebSocket again, with a {@link TabLeader} relaying what it applies. Frames go one way: uplink, then the
 * {@link Replica}, whose hooks the client turns into events.
 *
 * @internal
 */
/**
 * The uplinks' code, handed over by the chunk that loads with the replica (what loads when:
 * docs/client-architecture.md), so that the initial chunk holds no socket or tab code.
 * @internal
 */
export interface LinkParts {
  SyncConnection: typeof SyncConnection
  TabUplink: typeof TabUplink
  tabPlatform: typeof tabPlatform
}

export class Link implements UplinkSink, TabUplinkSink {
  readonly #options: CubbyOptions
  readonly #events: LinkEvents
  /** The socket, made by {@link equip} once its code is loaded. */
  #connection: SyncConnection | undefined
  #parts: LinkParts | undefined
  #status: CubbyStatus
  #wanted: boolean
  #closed = false
  #session: Session | undefined
  #replica: Replica | undefined
  /** Set while this client shares one connection with the other tabs of its (name, user). */
  #tabs: TabUplink | undefined
  #leader: TabLeader | undefined
  #wakeUp: (() => void) | undefined
  /** Ends the wait before the next attempt to create the anonymous identity, while there is one. */
  #retryIdentity: (() => void) | undefined

  constructor(options: CubbyOptions, events: LinkEvents) {
    this.#options = options
    this.#events = events
    this.#wanted = options.connect ?? true
    this.#status = this.#wanted ? 'connecting' : 'offline'
    this.#watchActivity(true)
  }

  /** Takes the uplinks' code once it is loaded, before the session is resolved: from now on there is a socket. */
  equip(parts: LinkParts): void {
    this.#parts = parts
    this.#connection = new parts.SyncConnection({
      ...this.#options,
      token: () => this.#session!.token(),
      renews: () => this.#session?.renews === true,
      cursor: () => this.#replica!.cursor,
      sink: this,
    })
  }

  get status(): CubbyStatus {
    return this.#status
  }

  /** Whether the app wants to be connected (`connect`, not `disconnect`). */
  get wanted(): boolean {
    return this.#wanted
  }

  /** Whether this client shares one connection with the other tabs of its (name, user). */
  get coordinated(): boolean {
    return this.#tabs !== undefined
  }

  // ------------------------------------------------------------ while loading

  /** Resolves once the app wants to be online (or the client closes). */
  connectWanted(): Promise<void> {
    if (this.#wanted || this.#closed) return Promise.resolve()
    return new Promise((resolve) => (this.#wakeUp = resolve))
  }

  /** Creating the identity found the server unreachable, or loading failed: the client is offline. */
  offline(): void {
    this.#setStatus('offline')
  }

  /** Keeps the function that ends the current wait between attempts to create the identity. */
  waiting(retry: () => void): void {
    this.#retryIdentity = retry
  }

  /** Starts listening to the other tabs of this (name, user) before the cache is read, where tabs coordinate. */
  opening(userId: string, memoryCache: boolean): void {
    const parts = this.#parts!
    const platform = this.#options.tabs === 'independent' ? undefined : parts.tabPlatform()
    if (!platform || memoryCache || this.#closed) return
    const name = this.#options.name ?? 'default'
    this.#tabs = new parts.TabUplink({ platform, name, userId, replica: () => this.#replica!, sink: this })
  }

  /** The replica is loaded: announce the state, and connect if wanted. */
  attach(session: Session, replica: Replica): void {
    this.#session = session
    this.#replica = replica
    // Tabs share a persistent cache; a memory cache (also the fallback) is this tab's alone.
    if (!replica.cache.persistent) this.#leaveTabs()
    this.#setStatus(this.#status, true)
    if (this.#wanted) this.#goOnline()
    else this.#tabs?.stop()
  }

  // ------------------------------------------------------------ what the app wants

  connect(): void {
    if (this.#closed) return
    this.#wanted = true
    this.#wakeUp?.()
    if (this.#replica) this.#goOnline()
  }

  disconnect(): void {
    this.#wanted = false
    if (this.#tabs) {
      // A detached tab works alone and offline; it catches up from the shared cache when it connects again.
      this.#tabs.stop()
      this.#setStatus('offline')
    } else this.#stopSocket()
  }

  /** Stops for good: no uplink, no waits, no listeners. */
  close(): void {
    this.#wanted = false
    this.#closed = true
    this.#leaveTabs()
    this.#stopSocket()
    this.#wakeUp?.()
    this.#watchActivity(false)
  }

  // ------------------------------------------------------------ from the replica and the client

  /** A `synced` frame was applied: the catch-up is complete. */
  synced(): void {
    this.#setStatus('online')
    this.#events.ready()
  }

  /** Local writes are durable in the outbox: the other tabs learn of them. */
  durable(entries: readonly OutboxEntry[]): void {
    this.#tabs?.durable(entries)
  }

  /** Tells the other tabs that the user's local data is gone. */
  announceGone(code: 'CLOSED' | 'UNAUTHORIZED', message: string): void {
    this.#tabs?.announceGone(code, message)
  }

  #setStatus(status: CubbyStatus, force = false, error?: CubbyError): void {
    if (status === this.#status && !force) return
    this.#status = status
    this.#leader?.relayStatus(status, error)
    this.#events.status(status, error)
  }

  // ------------------------------------------------------------ internals

  /** Connects, or with other tabs, takes part: the tab holding the lock connects for all. */
  #goOnline(): void {
    if (!this.#tabs) return this.#connection!.start()
    if (this.#tabs.attached) return
    this.#setStatus('connecting')
    this.#tabs.start()
  }

  /** Closes the socket; before there is one (its code still loading), only the status goes `offline`. */
  #stopSocket(): void {
    if (this.#connection) this.#connection.stop()
    else this.#setStatus('offline')
  }

  #leaveTabs(): void {
    this.#tabs?.stop()
    this.#tabs = undefined
  }

  // ------------------------------------------------------------ from the socket (UplinkSink)

  /** @inheritDoc UplinkSink.state */
  state(status: 'connecting' | 'offline', error?: CubbyError): void {
    this.#setStatus(status, error !== undefined, error)
  }

  /** @inheritDoc UplinkSink.closed */
  closed(): void {
    this.#replica?.disconnected()
  }

  // ------------------------------------------------------------ from the tabs (TabUplinkSink)

  /** @inheritDoc TabUplinkSink.lead */
  lead(leader: TabLeader): void {
    this.#leader = leader
    this.#connection!.start()
    leader.relayStatus(this.#status)
  }

  /** @inheritDoc TabUplinkSink.unlead */
  unlead(): void {
    this.#leader = undefined
    this.#connection!.stop()
  }

  /** @inheritDoc TabUplinkSink.leaderStatus */
  leaderStatus(status: CubbyStatus, told?: TabError): void {
    if (told === undefined) this.#setStatus(status)
    else {
      // As the leader reported it: once on the error event, and with the status.
      const error = new CubbyError(told.code, told.message)
      this.#events.error(error)
      this.#setStatus(status, true, error)
    }
    if (status === 'online') this.#events.ready()
  }

  /** @inheritDoc TabUplinkSink.gone */
  gone(code: CubbyErrorCode, message: string): void {
    this.#events.gone(new CubbyError(code, message), false)
  }

  /** @inheritDoc TabUplinkSink.stopped */
  stopped(code: CubbyErrorCode, message: string, reason: StopReason, unauthorized?: UnauthorizedReason): void {
    this.#events.error(new CubbyError(code, message, unauthorized === undefined ? undefined : { reason: unauthorized }), reason)
  }

  /** @inheritDoc TabUplinkSink.failed */
  failed(error: unknown): void {
    this.#events.error(asCubbyError(error, 'STORAGE_ERROR'))
  }

  /** @inheritDoc UplinkSink.frame */
  frame(message: ServerMessage): void {
    let first: ServerMessage | undefined
    try {
      first = this.#apply(message)
    } catch (error) {
      // A frame that cannot be applied (a value that does not decode) must not escape into the socket handler.
      this.#events.error(asCubbyError(error, 'INTERNAL'))
    }
    // Other tabs get what the server left out of this connection's stream (its own writes) before the ack.
    if (first) this.#leader?.relayFrame(first)
    this.#leader?.relayFrame(message)
  }

  #apply(message: ServerMessage): ServerMessage | undefined {
    if (message.type === 'user-deleted') return this.userDeleted()
    // The changes an ack confirmed are listed only for other tabs: without a leader's relay, none.
    if (message.type !== 'welcome') return this.#replica!.receive(message, this.#leader !== undefined)
    if (message.userId !== this.#session!.userId) {
      // Never mix users: the local database belongs to the user it was opened for.
      this.#events.error(new CubbyError('UNAUTHORIZED', `The token is for another user, ${JSON.stringify(message.userId)}`))
      this.disconnect()
      return
    }
    if (message.now !== undefined) this.#replica!.learnClock(message.now)
    this.#replica!.connected((frame) => this.#connection!.send(frame))
  }

  /** The server deleted this user: drop the local data (every tab's), the outbox and the identity; stay offline. */
  userDeleted(): undefined {
    const message = 'The server deleted this user'
    this.#tabs?.announceGone('UNAUTHORIZED', message)
    this.#events.gone(new CubbyError('UNAUTHORIZED', message), true)
  }

  /** Reports a connection error; one that stopped the connection goes to the other tabs too, which follow this one. */
  error(error: CubbyError, stopped?: boolean): void {
    if (!stopped) return this.#events.error(error)
    const reason: StopReason = error.code === 'PROTOCOL_VERSION' ? 'version' : this.#options.auth === undefined ? 'identity' : 'token'
    this.#leader?.announceStopped(error.code, error.message, reason, error.reason)
    this.#events.error(error, reason)
  }

  /**
   * Reconnects at once, with the backoff reset, when the network comes back or the page becomes active again:
   * after an outage the backoff may have grown to `maxDelayMs`, and a phone may have slept through it.
   */
  #retryNow = (): void => {
    if (globalThis.document?.visibilityState === 'hidden') return
    // The uplink in use: the socket when alone or leading, else the channel to the leader.
    const uplink: Uplink | undefined = this.#tabs && !this.#leader ? this.#tabs : this.#connection
    uplink?.retryNow()
    this.#retryIdentity?.()
  }

  #watchActivity(on: boolean): void {
    const method = on ? 'addEventListener' : 'removeEventListener'
    for (const type of ['online', 'focus']) globalThis[method]?.(type, this.#retryNow)
    globalThis.document?.[method]('visibilitychange', this.#retryNow)
  }
}

import { randomClientId } from '../sync/randomClientId.js'
import { type TabEnvelope, type TabMessage, tabGroupName, tabPresenceName } from './TabMessage.js'

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
 * The tabs of one (name, user) as this tab sees them: their BroadcastChannel, this tab's presence lock (held
 * while it listens, so that the leader's wait on it means "gone", also after a crash) and the election lock.
 * It holds incoming messages back until {@link release} (before the tab takes part, and while it catches up)
 * and hands them in order to one receiver.
 *
 * @internal
 */
export class TabGroup {
  readonly platform: TabPlatform
  readonly name: string
  readonly id = randomClientId()
  readonly #receive: (envelope: TabEnvelope) => void
  #channel: BroadcastChannel | undefined
  #buffer: TabEnvelope[] = []
  #held = true
  #presence: AbortController | undefined
  #present = false
  #lockRequest: AbortController | undefined
  #release: (() => void) | undefined

  constructor(options: { platform: TabPlatform; name: string; userId: string; receive: (envelope: TabEnvelope) => void }) {
    this.platform = options.platform
    this.name = tabGroupName(options.name, options.userId)
    this.#receive = options.receive
  }

  /** Whether this tab listens. */
  get listening(): boolean {
    return this.#channel !== undefined
  }

  /** Starts listening (holding messages back) and joins. */
  listen(): void {
    if (this.#channel) return
    this.#channel = new this.platform.BroadcastChannel(this.name)
    this.#channel.onmessage = (event: MessageEvent<TabEnvelope>) => {
      if (this.#held) this.#buffer.push(event.data)
      else this.#receive(event.data)
    }
    this.join()
  }

  /** Holds messages back from now on (while this tab catches up). */
  hold(): void {
    this.#held = true
  }

  /** Hands held-back messages over in order, until one holds them again; then passes them as they come. */
  release(): void {
    this.#held = false
    while (!this.#held && this.#channel) {
      const envelope = this.#buffer.shift()
      if (!envelope) return
      this.#receive(envelope)
    }
  }

  /** Joins (again): once this tab holds its presence lock, so that the leader's wait on it means "gone". */
  join(): void {
    if (this.#presence) {
      if (this.#present) this.post({ type: 'join' }, false)
      return
    }
    const request = (this.#presence = new AbortController())
    this.platform.locks
      .request(tabPresenceName(this.name, this.id), { signal: request.signal }, () => {
        if (request.signal.aborted) return
        this.#present = true
        this.post({ type: 'join' }, false)
        return new Promise<void>((release) => request.signal.addEventListener('abort', () => release(), { once: true }))
      })
      .catch(() => {}) // aborted while waiting: this tab detached or closed
  }

  /** Asks for the election lock; `lead` runs once it is granted, until {@link resign}. */
  elect(lead: () => void): void {
    if (this.#lockRequest) return
    const request = (this.#lockRequest = new AbortController())
    this.platform.locks
      .request(this.name, { signal: request.signal }, () => {
        if (request.signal.aborted) return
        return new Promise<void>((release) => {
          this.#release = release
          lead()
        })
      })
      .catch(() => {}) // aborted while waiting: this tab detached or closed
  }

  /** Gives the election lock up (or stops waiting for it). */
  resign(): void {
    this.#release?.()
    this.#release = undefined
    this.#lockRequest?.abort()
    this.#lockRequest = undefined
  }

  /** Stops listening: leaves, gives up the presence lock and forgets held-back messages. */
  close(): void {
    this.resign()
    if (this.#presence) this.post({ type: 'leave' }, false)
    this.#presence?.abort()
    this.#presence = undefined
    this.#present = false
    this.#channel?.close()
    this.#channel = undefined
    this.#buffer = []
    this.#held = true
  }

  post(body: TabMessage, leader: boolean): void {
    try {
      this.#channel?.postMessage({ from: this.id, leader, body } satisfies TabEnvelope)
    } catch {
      // Closed while a relay was queued.
    }
  }
}

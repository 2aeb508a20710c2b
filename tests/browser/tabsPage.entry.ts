// Browser code of the tabs page (bundled by tabsPage.ts): one Cubby client per page, driven through `window.tab`.
import { type Cubby, createCubby } from '@cubby/client'

/** What a test calls in a page with `page.evaluate`. */
export interface TabPage {
  /** Creates this tab's client (a shared app name, so tabs of one context share its IndexedDB) and waits for `ready()`. */
  open(options: { url: string; token: string; name: string; reconnect?: { minDelayMs: number; maxDelayMs: number } }): Promise<void>
  /** Stores `count` keys `prefix/0` … one at a time, each awaited. */
  storeEach(prefix: string, count: number): Promise<void>
  store(key: string, value: unknown): Promise<void>
  synced(): Promise<void>
  /** The keys (in order) that have no value here, out of `prefix/0` … `prefix/{count - 1}`. */
  missing(prefix: string, count: number): Promise<string[]>
  get(key: string): Promise<unknown>
  status(): string
  /** The client's `persistent` (false on a memory cache) and `tabs` (`coordinate` or `independent`). */
  storage(): { persistent: boolean; tabs: string }
  /**
   * Counts what the leader posts on the tab channel of (name, user), through a BroadcastChannel of its own that
   * only listens (it is no tab of the group, so it never joins).
   */
  spy(name: string, userId: string): void
  /** What the spy has heard from the leader, by message type. */
  heard(): Record<string, number>
  /**
   * From now on this page's sockets drop its `push` frames before they leave (the server never gets them) or
   * the server's `ack` frames as they arrive (the server applied the writes; this page never hears it); with
   * `undefined`, nothing.
   */
  drop(frames: 'push' | 'ack' | undefined): void
  /** How many writes this page's client has not seen acknowledged. */
  pendingCount(): number
  close(): Promise<void>
}

declare global {
  interface Window {
    tab: TabPage
  }
}

let cubby: Cubby | undefined
const heard: Record<string, number> = {}
let dropping: Parameters<TabPage['drop']>[0]

const frameType = (data: unknown): unknown => (typeof data === 'string' ? (JSON.parse(data) as { type?: unknown }).type : undefined)

/** The page's WebSocket: the browser's, which drops frames as {@link TabPage.drop} says. */
class DroppingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args)
    // Listeners run in the order they were added: this one before the client's `onmessage`, set later.
    this.addEventListener('message', (event) => {
      if (dropping === 'ack' && frameType(event.data) === 'ack') event.stopImmediatePropagation()
    })
  }

  override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (dropping === 'push' && frameType(data) === 'push') return
    super.send(data)
  }
}

window.tab = {
  async open({ url, token, name, reconnect }) {
    cubby = createCubby({ url, auth: token, name, WebSocket: DroppingWebSocket, ...(reconnect && { reconnect }) })
    await cubby.ready()
  },
  async storeEach(prefix, count) {
    for (let i = 0; i < count; i++) await cubby!.store(`${prefix}/${i}`, i)
  },
  store: (key, value) => cubby!.store(key, value),
  synced: () => cubby!.synced(),
  async missing(prefix, count) {
    const keys = Array.from({ length: count }, (_, i) => `${prefix}/${i}`)
    const values = await cubby!.getMany(keys)
    return keys.filter((key, i) => values[i] !== i)
  },
  get: (key) => cubby!.get(key),
  status: () => cubby!.status,
  storage: () => ({ persistent: cubby!.persistent, tabs: cubby!.tabs }),
  spy(name, userId) {
    // The client's group name (TabMessage.ts, tabGroupName): the test mirrors it to listen in.
    const channel = new BroadcastChannel(`cubby-tabs:${JSON.stringify([name, userId])}`)
    channel.onmessage = (event: MessageEvent<{ leader: boolean; body: { type: string } }>) => {
      if (event.data.leader) heard[event.data.body.type] = (heard[event.data.body.type] ?? 0) + 1
    }
  },
  heard: () => ({ ...heard }),
  drop(frames) {
    dropping = frames
  },
  pendingCount: () => cubby!.pendingCount,
  close: () => cubby!.close(),
}

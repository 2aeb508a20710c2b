// Browser code of the storage page (bundled by storagePage.ts): one Cubby client, driven through `window.storage`.
import { type Cubby, type CubbyStats, type CubbyStorageEstimate, createCubby, createIdbCache } from '@cubby/client'

/** What a reload would find in the user's database. */
export interface DiskState {
  entries: number
  cursor: number
  /** Keys of the outbox, in replay order. */
  outbox: Array<string | undefined>
}

/** What a test calls in the page with `page.evaluate`. */
export interface StoragePage {
  /** Creates the client (IndexedDB cache) and waits until it has read its cache (and, when online, the first catch-up). */
  open(options: { url: string; token: string; name: string; connect: boolean }): Promise<void>
  /** Stores `prefix/0` … `prefix/{count - 1}` with values of about `bytes` characters, all in one tick, and waits for every one. */
  storeBurst(prefix: string, count: number, bytes: number): Promise<void>
  /** The keys out of `prefix/0` … that have no value of `bytes` characters here. */
  missing(prefix: string, count: number, bytes: number): Promise<string[]>
  connect(): void
  disconnect(): void
  synced(): Promise<void>
  /** The codes and lost write counts of every `error` event so far. */
  errors(): Array<{ code: string; lostWrites?: number }>
  stats(): CubbyStats
  /** `cubby.storage.estimate()` and `cubby.storage.persist()`. */
  estimate(): Promise<CubbyStorageEstimate>
  persist(): Promise<boolean>
  persistent(): boolean
  pendingCount(): number
  /** Opens the database the way a reload would (a second connection) and reads it. */
  disk(name: string, userId: string): Promise<DiskState>
  /** Forces the client's IndexedDB connection closed: another connection asks for a new version of its database. */
  bumpVersion(name: string, userId: string): Promise<void>
  close(): Promise<void>
}

declare global {
  interface Window {
    storage: StoragePage
  }
}

let cubby: Cubby | undefined
const errors: Array<{ code: string; lostWrites?: number }> = []
/** A value of `bytes` characters that does not compress (Chromium compresses what IndexedDB stores), the same for each `i`. */
function valueOf(i: number, bytes: number): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  let seed = i + 1
  let out = `${i}:`
  while (out.length < bytes) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    out += chars[(seed >>> 16) % 64]
  }
  return out
}
const dbName = (name: string, userId: string): string => `cubby:${JSON.stringify([name, userId])}`

window.storage = {
  async open({ url, token, name, connect }) {
    cubby = createCubby({ url, auth: token, name, connect, tabs: 'independent' })
    cubby.addEventListener('error', (e) => {
      errors.push(e.detail.lostWrites === undefined ? { code: e.detail.error.code } : { code: e.detail.error.code, lostWrites: e.detail.lostWrites })
    })
    await cubby.list()
    if (connect) await cubby.ready()
  },
  async storeBurst(prefix, count, bytes) {
    await Promise.all(Array.from({ length: count }, (_, i) => cubby!.store(`${prefix}/${i}`, valueOf(i, bytes))))
  },
  async missing(prefix, count, bytes) {
    const keys = Array.from({ length: count }, (_, i) => `${prefix}/${i}`)
    const values = await cubby!.getMany(keys)
    return keys.filter((_, i) => values[i] !== valueOf(i, bytes))
  },
  connect: () => cubby!.connect(),
  disconnect: () => cubby!.disconnect(),
  synced: () => cubby!.synced(),
  errors: () => [...errors],
  stats: () => cubby!.stats(),
  estimate: () => cubby!.storage.estimate(),
  persist: () => cubby!.storage.persist(),
  persistent: () => cubby!.persistent,
  pendingCount: () => cubby!.pendingCount,
  async disk(name, userId) {
    const cache = await createIdbCache({ name }).open(userId)
    const { entries, cursor, outbox } = await cache.load()
    await cache.close()
    return { entries: entries.length, cursor, outbox: outbox.map((e) => (e.mutation.op === 'clear' ? undefined : e.mutation.key)) }
  },
  async bumpVersion(name, userId) {
    const [info] = (await indexedDB.databases()).filter((d) => d.name === dbName(name, userId))
    const request = indexedDB.open(dbName(name, userId), (info?.version ?? 1) + 1)
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error ?? new Error('open failed'))
    })
    db.close()
  },
  close: () => cubby!.close(),
}

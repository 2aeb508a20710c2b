import { CubbyError } from '@cubby/protocol'
import {
  type CacheSnapshot,
  type CacheWrite,
  type CachedEntry,
  type CubbyCache,
  type CubbyCacheProvider,
  type CubbyIdentity,
  type OutboxEntry,
  compareOutbox,
  confirmedPartApplies,
} from './CubbyCache.js'

interface UserData {
  entries: Map<string, CachedEntry>
  outbox: Map<string, OutboxEntry>
  cursor: number
}

const outboxId = (clientId: string, mid: number): string => `${mid} ${clientId}`

function apply(data: UserData, batch: CacheWrite): void {
  if (confirmedPartApplies(batch, data.cursor)) {
    if (batch.clearEntries) data.entries.clear()
    for (const key of batch.deleteEntries ?? []) data.entries.delete(key)
    for (const entry of batch.putEntries ?? []) data.entries.set(entry.key, entry)
    if (batch.cursor !== undefined) data.cursor = batch.cursor
  }
  for (const entry of batch.outboxPut ?? []) data.outbox.set(outboxId(entry.clientId, entry.mutation.mid), entry)
  for (const ref of batch.outboxDelete ?? []) data.outbox.delete(outboxId(ref.clientId, ref.mid))
}

class MemoryCache implements CubbyCache {
  readonly persistent = false
  #data: UserData
  #closed = false
  readonly #onDestroy: () => void

  constructor(data: UserData, onDestroy: () => void) {
    this.#data = data
    this.#onDestroy = onDestroy
  }

  async load(): Promise<CacheSnapshot> {
    this.#assertOpen()
    const { entries, outbox, cursor } = structuredClone(this.#data)
    return { entries: [...entries.values()], outbox: [...outbox.values()].sort(compareOutbox), cursor }
  }

  async write(batch: CacheWrite): Promise<void> {
    this.#assertOpen()
    // Cloning first is what makes a write atomic here, as a transaction does in IndexedDB: a value that
    // cannot be cloned throws before anything is applied.
    apply(this.#data, structuredClone(batch))
  }

  async destroy(): Promise<void> {
    this.#closed = true
    this.#onDestroy()
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #assertOpen(): void {
    if (this.#closed) throw new CubbyError('CLOSED', 'This cache is closed')
  }
}

/**
 * Creates a cache that keeps everything in memory: for SSR, tests, and as the fallback when IndexedDB is
 * missing or cannot be opened (private browsing). Data survives reopening on the same provider, not a reload.
 *
 * @returns A provider whose caches are not persistent.
 * @example
 * ```ts
 * const cubby = createCubby({ url: 'https://cubby.example.com', cache: createMemoryCache() })
 * ```
 */
export function createMemoryCache(): CubbyCacheProvider {
  const users = new Map<string, UserData>()
  let identity: CubbyIdentity | undefined
  return {
    kind: 'memory',
    async open(userId) {
      let data = users.get(userId)
      if (!data) users.set(userId, (data = { entries: new Map(), outbox: new Map(), cursor: 0 }))
      return new MemoryCache(data, () => users.delete(userId))
    },
    loadIdentity: async () => (identity ? { ...identity } : undefined),
    saveIdentity: async (next) => {
      identity = next ? { userId: next.userId, token: next.token } : undefined
    },
  }
}

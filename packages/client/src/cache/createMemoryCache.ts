import { CubbyError, type Mutation } from '@cubby/protocol'
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
  /** By client id, then mid (no id string to build per write). */
  outbox: Map<string, Map<number, OutboxEntry>>
  cursor: number
}

function checked<T>(value: T, type: 'string' | 'number'): T {
  if (typeof value !== type) throw new TypeError(`Not a ${type}`)
  return value
}

const copyEntry = (e: CachedEntry): CachedEntry => ({ key: checked(e.key, 'string'), rev: checked(e.rev, 'number'), value: checked(e.value, 'string') })

function copyMutation(m: Mutation): Mutation {
  const mid = checked(m.mid, 'number')
  switch (m.op) {
    case 'store':
      return { op: 'store', mid, key: checked(m.key, 'string'), value: checked(m.value, 'string') }
    case 'delete':
      return { op: 'delete', mid, key: checked(m.key, 'string') }
    case 'clear':
      return { op: 'clear', mid }
  }
}

/**
 * Copies a write, checking every field, before any of it is applied: what makes a write atomic here, as a
 * transaction does in IndexedDB. Records hold only strings and numbers, so copying the known shapes by hand
 * does what structuredClone did, at a fraction of its cost (it was the client's largest item in the
 * fan-out benchmark's profile).
 */
function copyWrite(batch: CacheWrite): CacheWrite {
  const copy: CacheWrite = { ...batch }
  if (batch.deleteEntries) copy.deleteEntries = batch.deleteEntries.map((key) => checked(key, 'string'))
  if (batch.putEntries) copy.putEntries = batch.putEntries.map(copyEntry)
  if (batch.outboxPut) {
    copy.outboxPut = batch.outboxPut.map((e) => ({ seq: checked(e.seq, 'number'), clientId: checked(e.clientId, 'string'), mutation: copyMutation(e.mutation) }))
  }
  if (batch.outboxDelete) copy.outboxDelete = batch.outboxDelete.map((r) => ({ clientId: checked(r.clientId, 'string'), mid: checked(r.mid, 'number') }))
  return copy
}

function apply(data: UserData, batch: CacheWrite): void {
  if (confirmedPartApplies(batch, data.cursor)) {
    if (batch.clearEntries) data.entries.clear()
    for (const key of batch.deleteEntries ?? []) data.entries.delete(key)
    for (const entry of batch.putEntries ?? []) data.entries.set(entry.key, entry)
    if (batch.cursor !== undefined) data.cursor = batch.cursor
  }
  for (const entry of batch.outboxPut ?? []) {
    const mids = data.outbox.get(entry.clientId)
    if (mids) mids.set(entry.mutation.mid, entry)
    else data.outbox.set(entry.clientId, new Map([[entry.mutation.mid, entry]]))
  }
  for (const ref of batch.outboxDelete ?? []) {
    const mids = data.outbox.get(ref.clientId)
    if (mids?.delete(ref.mid) && mids.size === 0) data.outbox.delete(ref.clientId)
  }
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
    return { entries: [...entries.values()], outbox: [...outbox.values()].flatMap((mids) => [...mids.values()]).sort(compareOutbox), cursor }
  }

  async write(batch: CacheWrite): Promise<void> {
    this.writeSync(batch)
  }

  writeSync(batch: CacheWrite): void {
    this.#assertOpen()
    apply(this.#data, copyWrite(batch))
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

import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'

/** Makes the IndexedDB of a {@link flakyIndexedDB} fail the way browsers do (tests only: not built). */
export interface FlakyControl {
  /** The next `count` calls of `transaction()` throw a DOMException named `name` (a connection lost under the client). */
  failTransactions(count: number, name?: string): void
  /** Closes every open connection without a `close` event, as Safari does when it drops a backgrounded tab's. */
  closeAll(): void
  /** The bytes (JSON length of values) all databases may hold; a put over it throws `QuotaExceededError`. */
  quotaBytes: number
  /** The bytes held now (committed transactions). */
  readonly usedBytes: number
  /** How many puts the quota refused. */
  readonly refusals: number
}

/** One database's committed records, by JSON of the key, with the key and its size. */
type Usage = Map<string, { key: IDBValidKey; size: number }>

/**
 * A fake-indexeddb factory whose failures a test controls at the IndexedDB API level: every database the page
 * opens is the real fake one, with `transaction()`, `put()` and `delete()` patched on the instance.
 */
export function flakyIndexedDB(): { factory: IDBFactory; control: FlakyControl } {
  const factory = new IDBFactory()
  const open = factory.open.bind(factory)
  const connections = new Set<IDBDatabase>()
  const usage = new Map<string, Usage>()
  let failures = 0
  let failure = 'InvalidStateError'
  let refusals = 0
  const used = (): number => [...usage.values()].reduce((sum, db) => sum + [...db.values()].reduce((s, r) => s + r.size, 0), 0)
  const control: FlakyControl = {
    failTransactions(count, name = 'InvalidStateError') {
      failures = count
      failure = name
    },
    closeAll() {
      for (const db of connections) db.close()
      connections.clear()
    },
    quotaBytes: Number.POSITIVE_INFINITY,
    get usedBytes() {
      return used()
    },
    get refusals() {
      return refusals
    },
  }

  const patched = new WeakSet<IDBObjectStore>()
  const patchStore = (store: IDBObjectStore, records: Usage, changes: Array<() => void>, pending: { bytes: number }): void => {
    if (patched.has(store)) return
    patched.add(store)
    const put = store.put.bind(store)
    const del = store.delete.bind(store)
    store.put = (value: unknown, key?: IDBValidKey) => {
      const id = JSON.stringify(key)
      const size = JSON.stringify(value).length
      const delta = size - (records.get(id)?.size ?? 0)
      if (delta > 0 && used() + pending.bytes + delta > control.quotaBytes) {
        refusals++
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
      }
      pending.bytes += delta
      const request = put(value, key)
      // Dexie's tables have inline keys: their bytes count, they just cannot be deleted by key here.
      changes.push(() => records.set(key === undefined ? `${Math.random()}` : id, { key: key ?? [], size }))
      return request
    }
    store.delete = (query: IDBValidKey | IDBKeyRange) => {
      const request = del(query)
      changes.push(() => {
        for (const [id, { key }] of records) {
          if (Array.isArray(key) && key.length === 0) continue
          if (query instanceof IDBKeyRange ? query.includes(key) : factory.cmp(query, key) === 0) records.delete(id)
        }
      })
      return request
    }
  }

  const patch = (db: IDBDatabase): void => {
    connections.add(db)
    const records: Usage = usage.get(db.name) ?? new Map()
    usage.set(db.name, records)
    const transaction = db.transaction.bind(db)
    db.transaction = ((names: string | string[], mode?: IDBTransactionMode) => {
      if (failures > 0) {
        failures--
        throw new DOMException(`Injected ${failure}`, failure)
      }
      const tx = transaction(names, mode)
      const changes: Array<() => void> = []
      const pending = { bytes: 0 }
      const objectStore = tx.objectStore.bind(tx)
      tx.objectStore = (name: string) => {
        const store = objectStore(name)
        patchStore(store, records, changes, pending)
        return store
      }
      tx.addEventListener('complete', () => changes.forEach((apply) => apply()))
      return tx
    }) as IDBDatabase['transaction']
    db.addEventListener('close', () => connections.delete(db))
  }

  factory.open = (name: string, version?: number) => {
    const request = open(name, version)
    request.addEventListener('success', () => patch(request.result))
    return request
  }
  factory.deleteDatabase = ((deleteDatabase) => (name: string) => {
    usage.delete(name)
    return deleteDatabase(name)
  })(factory.deleteDatabase.bind(factory))
  return { factory, control }
}

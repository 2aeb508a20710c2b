// A PouchDB peer: a local database per device (the memory adapter, as Cubby's Node clients use
// cache 'memory'), live two-way sync with the user's database on express-pouchdb.
import { randomUUID } from 'node:crypto'
import PouchDB from 'pouchdb'
import memoryAdapter from 'pouchdb-adapter-memory'
import { withTimeout } from '../lib/util.js'

PouchDB.plugin(memoryAdapter)
// Every memory database adds an exit listener; 50 clients in one process are expected here.
process.setMaxListeners(0)

export async function connect({ url, user }) {
  const local = new PouchDB(`device-${randomUUID()}`, { adapter: 'memory' })
  const remote = new PouchDB(`${url}/user-${user}`)
  const own = new Set()
  const listeners = []
  const anyListeners = []
  const changes = local.changes({ since: 'now', live: true }).on('change', (change) => {
    for (const listener of anyListeners) listener()
    if (own.has(change.id)) return
    for (const listener of listeners) listener(change.id)
  })
  const sync = local.sync(remote, { live: true, retry: true })
  const paused = new Promise((resolve) => sync.once('paused', () => resolve()))
  sync.on('error', (error) => console.error('pouchdb sync error', error))
  return {
    ready: () => withTimeout(paused, 30_000, `pouchdb ${user} to sync`),
    store: (key, value) => {
      own.add(key)
      return local.put({ _id: key, v: value })
    },
    onRemote: (listener) => void listeners.push(listener),
    onAny: (listener) => void anyListeners.push(listener),
    count: async () => (await local.info()).doc_count,
    remoteCount: async () => (await remote.info()).doc_count,
    flush: async () => {},
    // Stop replication before anything else: a live replication whose server goes away first throws
    // an unhandled FetchError.
    close: async () => {
      sync.cancel()
      changes.cancel()
      await local.destroy()
      await remote.close()
    },
  }
}

/**
 * Client adapters, one per system, with one shape:
 * `{ ready(), store(key, value), onRemote(listener(key)), onAny(listener()), count(), flush(), close() }`.
 * `onRemote` reports keys that reached this device from another one; `flush` resolves once every write
 * so far is acknowledged by the server (only Cubby has such acks).
 */
export async function loadClient(system) {
  switch (system) {
    case 'cubby':
    case 'redis':
      return import('./cubby.js')
    case 'cubby-raw':
      return import('./cubby-raw.js')
    case 'yjs':
      return import('./yjs.js')
    case 'pouchdb':
      return import('./pouchdb.js')
    default:
      throw new Error(`no client for ${system}`)
  }
}

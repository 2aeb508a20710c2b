// A Cubby device in Node: the built @cubby/client with its memory cache (the peers' Node clients keep
// no local persistence either) and ws's WebSocket, authenticated with a token signed by the server's
// secret.
import { randomUUID } from 'node:crypto'
import { createCubby } from '@cubby/client'
import { WebSocket } from 'ws'
import { cubbyToken } from '../lib/token.js'
import { withTimeout } from '../lib/util.js'

export async function connect({ url, user, secret }) {
  const token = await cubbyToken(secret, user)
  // tabs: 'independent' says what Node gives anyway (no Web Locks, no persistent cache): every client is
  // a device of its own, so whatever it learns of another one came through the server.
  const cubby = createCubby({ url, auth: token, WebSocket, cache: 'memory', name: `device-${randomUUID()}`, tabs: 'independent' })
  const listeners = []
  const anyListeners = []
  cubby.addEventListener('change', (event) => {
    for (const listener of anyListeners) listener()
    if (event.detail.origin !== 'remote') return
    for (const key of event.detail.keys) for (const listener of listeners) listener(key)
  })
  cubby.addEventListener('error', (event) => console.error(`cubby error ${event.detail.error.code}: ${event.detail.error.message}`))
  return {
    ready: () => withTimeout(cubby.ready(), 30_000, `cubby ${user} to be ready`),
    store: (key, value) => cubby.store(key, value),
    onRemote: (listener) => void listeners.push(listener),
    onAny: (listener) => void anyListeners.push(listener),
    count: async () => (await cubby.list()).length,
    // Every write so far acknowledged, which the server sends only once it is durable (synced batch).
    flush: () => cubby.synced(),
    close: () => cubby.close(),
  }
}

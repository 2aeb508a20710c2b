// A Yjs peer the way an app would keep a per-user key-value store: one Y.Doc per user (room
// `user-<id>` on the stock y-websocket server), one Y.Map in it, a y-websocket provider.
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { WebSocket } from 'ws'
import { withTimeout } from '../lib/util.js'

// Each provider adds a process exit listener; the fan-out holds 50 in one process.
process.setMaxListeners(0)

export async function connect({ url, user }) {
  const doc = new Y.Doc()
  const map = doc.getMap('kv')
  const listeners = []
  map.observe((event) => {
    if (event.transaction.local) return
    for (const key of event.keysChanged) for (const listener of listeners) listener(key)
  })
  // disableBc: in Node, the global BroadcastChannel would let two providers of one process sync
  // without the server.
  const provider = new WebsocketProvider(url.replace(/^http/, 'ws'), `user-${user}`, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true,
  })
  const synced = new Promise((resolve) => {
    if (provider.synced) resolve()
    else provider.once('synced', () => resolve())
  })
  return {
    ready: () => withTimeout(synced, 30_000, `yjs ${user} to sync`),
    store: (key, value) => void map.set(key, value),
    onRemote: (listener) => void listeners.push(listener),
    onAny: (listener) => map.observe(() => listener()),
    count: () => map.size,
    // Yjs has no acknowledgement: the server applies and forwards an update before (and whether or not)
    // y-leveldb stores it.
    flush: async () => {},
    close: async () => {
      provider.destroy()
      doc.destroy()
    },
  }
}

// Not a client library: raw sockets speaking Cubby's sync protocol (hello, push, changes, ack), so a
// workload can tell the server's share of a number from the client library's.
import { WebSocket } from 'ws'
import { cubbyToken } from '../lib/token.js'
import { withTimeout } from '../lib/util.js'

export async function connect({ url, user, secret }) {
  const token = await cubbyToken(secret, user)
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/sync`)
  const clientId = `raw-${Math.random().toString(36).slice(2)}`
  const own = new Set()
  /** Keys of this client's stores by mid, until acked: the server leaves their changes out (echo: false). */
  const ownByMid = new Map()
  const listeners = []
  const anyListeners = []
  let keys = new Set()
  let nextMid = 1
  let acked = 0
  let ackWaiters = []
  let queued = []
  const flushQueue = () => {
    for (let i = 0; i < queued.length; i += 1000) ws.send(JSON.stringify({ type: 'push', clientId, mutations: queued.slice(i, i + 1000) }))
    queued = []
  }
  let resolveSynced
  const synced = new Promise((resolve) => (resolveSynced = resolve))
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString())
    if (frame.type === 'synced') resolveSynced()
    else if (frame.type === 'changes') {
      for (const change of frame.changes) {
        if (change.clear) keys = new Set()
        else if (change.deleted) keys.delete(change.key)
        else keys.add(change.key)
        if (change.key !== undefined && !own.has(change.key)) for (const listener of listeners) listener(change.key)
      }
      for (const listener of anyListeners) listener()
    } else if (frame.type === 'ack') {
      for (const result of frame.results) {
        acked = Math.max(acked, result.mid)
        if (result.rev !== undefined) keys.add(ownByMid.get(result.mid))
        ownByMid.delete(result.mid)
      }
      ackWaiters = ackWaiters.filter(([mid, resolve]) => (mid <= acked ? (resolve(), false) : true))
    }
  })
  await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 10_000, 'raw socket open')
  // As @cubby/client does: the acks of this client's pushes stand for their changes.
  ws.send(JSON.stringify({ type: 'hello', v: 1, token, cursor: 0, echo: false }))
  return {
    ready: () => withTimeout(synced, 30_000, `raw ${user} to be synced`),
    // Stores of one tick go out as one push (up to the protocol's 1,000 mutations), as the client does.
    store: (key, value) => {
      own.add(key)
      if (queued.length === 0) queueMicrotask(flushQueue)
      ownByMid.set(nextMid, key)
      queued.push({ op: 'store', mid: nextMid++, key, value: JSON.stringify(value) })
    },
    onRemote: (listener) => void listeners.push(listener),
    onAny: (listener) => void anyListeners.push(listener),
    count: () => keys.size,
    flush: () => {
      const last = nextMid - 1
      return last <= acked ? Promise.resolve() : new Promise((resolve) => ackWaiters.push([last, resolve]))
    },
    close: async () => ws.close(),
  }
}

// Driver processes of the curves' "user" part (curves.js): one user with many keys, and whether any request on
// it costs more as the user grows. Keys are k/000000, k/000001, ...; values 100 characters.
import { performance } from 'node:perf_hooks'
import { ClassicLevel } from 'classic-level'
import { loadClient } from '../clients/index.js'
import { connect } from '../clients/cubby-raw.js'
import { latencySummary } from '../lib/stats.js'
import { cubbyToken } from '../lib/token.js'
import { makeTempDir, removeDir, value100, withTimeout } from '../lib/util.js'
import { freshRead } from './coldsync.js'

/** Timed requests of each kind per run, one at a time. */
const SAMPLES = 200
const keyOf = (k) => `k/${String(k).padStart(6, '0')}`

/** The same pseudo-random key indexes on every run and in the limit, so both read the same spots. */
function randomKeys(keys) {
  let seed = 12_345
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed % keys
  }
}

/** Stores `keys` keys for `user` through raw sockets (pushes of 1,000) and waits until every one is acknowledged. */
export async function populate({ url, secret, user, keys }) {
  const client = await connect({ url, user, secret })
  await client.ready()
  const t0 = performance.now()
  for (let k = 0; k < keys; k++) client.store(keyOf(k), value100(k))
  await withTimeout(client.flush(), 240_000, `${keys} stores to be acknowledged`)
  await client.close()
  return { ms: performance.now() - t0 }
}

/** Times HTTP requests on the user: the first write after a restart, then get, a 100-key list page and a write (p50). */
export async function measure({ url, secret, user, keys }) {
  const auth = { authorization: `Bearer ${await cubbyToken(secret, user)}` }
  const request = async (method, path, body) => {
    const t0 = performance.now()
    const res = await fetch(`${url}${path}`, { method, headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) })
    const text = await res.text()
    const ms = performance.now() - t0
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return { ms, text }
  }
  const next = randomKeys(keys)
  const put = (k) => request('PUT', `/v1/values/${encodeURIComponent(keyOf(k))}`, JSON.stringify(value100(k + 1)))
  // A read first, so that the connection is open before the first write is timed.
  await request('GET', `/v1/values/${encodeURIComponent(keyOf(0))}`)
  const first = (await put(next())).ms
  const times = { get: [], 'list page': [], write: [] }
  for (let i = 0; i < SAMPLES; i++) {
    times.get.push((await request('GET', `/v1/values/${encodeURIComponent(keyOf(next()))}`)).ms)
    const page = await request('GET', `/v1/values?prefix=k/&after=${encodeURIComponent(keyOf(next()))}&limit=100`)
    if (JSON.parse(page.text).keys.length === 0) throw new Error('an empty list page')
    times['list page'].push(page.ms)
    times.write.push((await put(next())).ms)
  }
  return { 'first write after restart': first, ...Object.fromEntries(Object.entries(times).map(([name, t]) => [name, latencySummary(t).p50])) }
}

/** The same reads and writes on classic-level directly: get, an iterator page of 100 and a synced put (p50). */
export async function limitDriver({ keys }) {
  const dir = await makeTempDir('limit-user')
  const db = new ClassicLevel(dir)
  await db.open()
  for (let k = 0; k < keys; k += 1_000) {
    const ops = []
    for (let j = k; j < Math.min(keys, k + 1_000); j++) ops.push({ type: 'put', key: `big/${keyOf(j)}`, value: value100(j) })
    await db.batch(ops, { sync: true })
  }
  const next = randomKeys(keys)
  const timed = async (fn) => {
    const t0 = performance.now()
    await fn()
    return performance.now() - t0
  }
  const times = { get: [], 'iterator page': [], 'synced put': [] }
  for (let i = 0; i < SAMPLES; i++) {
    times.get.push(await timed(() => db.get(`big/${keyOf(next())}`)))
    times['iterator page'].push(await timed(() => db.iterator({ gt: `big/${keyOf(next())}`, lt: 'big/k0', limit: 100 }).all()))
    const k = next()
    times['synced put'].push(await timed(() => db.put(`big/${keyOf(k)}`, value100(k + 1), { sync: true })))
  }
  await db.close()
  await removeDir(dir)
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, latencySummary(t).p50]))
}

/**
 * Driver process of the curves' "cold" part: `freshRead` of coldsync.js, once this process has loaded what a
 * connect loads on first use (the client, and the token signer), so that the clock counts the sync and not a
 * module load.
 */
export async function coldRead(params) {
  await loadClient(params.system)
  await cubbyToken(params.secret, 'warm-up')
  return freshRead(params)
}

/**
 * Driver process of the curves' "cold" part for Yjs: stores `keys` keys in transactions of 1,000 (as Cubby's client
 * pushes 1,000 stores a frame; one transaction a key makes 100,000 updates, which the server stores one by one), then
 * waits until a fresh client holds them all.
 */
export async function populateYjs({ url, user, keys, secret }) {
  const { WebsocketProvider } = await import('y-websocket')
  const Y = await import('yjs')
  const { WebSocket } = await import('ws')
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url.replace(/^http/, 'ws'), `user-${user}`, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
  await withTimeout(new Promise((resolve) => provider.once('synced', resolve)), 30_000, 'yjs writer to sync')
  const map = doc.getMap('kv')
  for (let k = 0; k < keys; k += 1_000) {
    doc.transact(() => {
      for (let j = k; j < Math.min(keys, k + 1_000); j++) map.set(`k/${String(j).padStart(5, '0')}`, value100(j))
    })
  }
  // Yjs has no acknowledgement: a fresh reader that holds every key is the proof that the server has them.
  const ms = await freshRead({ system: 'yjs', url, secret, user, keys })
  provider.destroy()
  doc.destroy()
  return { readMs: ms }
}

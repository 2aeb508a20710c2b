// Workload 3: cold sync. A user holds 10,000 keys of 100 bytes; the time from connect until a fresh
// client holds (can read) all of them, against a running server (the writer still connected) and
// against a just-restarted one. Peers signal "synced" before a cold client holds the data, so the
// clock stops when the data is there, not at their event. Limit: a classic-level iterator over the
// same keys, on an open database and on a freshly opened one. On the Redis deployment the writer is on
// node 1 and the fresh clients on node 2; "restarted" restarts both nodes (Redis keeps running).
import { performance } from 'node:perf_hooks'
import { ClassicLevel } from 'classic-level'
import { loadClient } from '../clients/index.js'
import { runInChild } from '../lib/driver.js'
import { cubbyToken } from '../lib/token.js'
import { makeTempDir, removeDir, sleep, value100, withTimeout } from '../lib/util.js'
import { waitForQuiet } from '../lib/server.js'
import { rowName } from '../servers/cubby-redis.js'
import { startServer } from '../servers/index.js'

const SELF = import.meta.url
const NAME = 'coldsync'
const TIME_LIMIT_MS = 60_000

export async function run({ runs, quick, systems, results, log, profileArgs }) {
  const keys = quick ? 2_000 : 10_000
  for (let r = 0; r < runs; r++) {
    const limit = await runInChild(SELF, 'limitDriver', { keys })
    results.add('coldsync', 'limit', 'running', 'ms', limit.iterateMs)
    results.add('coldsync', 'limit', 'restarted', 'ms', limit.openIterateMs)
    log(`  limit run ${r + 1}: iterate ${limit.iterateMs.toFixed(1)} ms, open + iterate ${limit.openIterateMs.toFixed(1)} ms`)
  }
  for (const system of systems) {
    const dataDir = await makeTempDir(`cold-${system}`)
    const secret = 'bench-secret-' + Math.random().toString(36).slice(2)
    const server = await startServer(system, { dataDir, secret, nodeArgs: profileArgs(`${NAME}-${system}-server`) })
    const row = rowName(system)
    // Fresh clients read from the second node, if there is one.
    const base = { system, url: server.url2 ?? server.url, secret, user: 'cold', keys }
    try {
      // One driver writes the keys, keeps the writer connected, and times fresh readers `runs` times.
      const warm = await runInChild(SELF, 'populateAndRead', { ...base, writerUrl: server.url, runs }, { timeoutMs: TIME_LIMIT_MS * (runs + 2), execArgv: profileArgs(`${NAME}-${system}-clients`) })
      log(`  ${row}: populated ${keys} keys in ${(warm.populateMs / 1000).toFixed(1)} s`)
      for (const [r, ms] of warm.readMs.entries()) {
        results.add('coldsync', row, 'running', 'ms', ms)
        log(`  ${row} run ${r + 1}, running server: ${ms.toFixed(1)} ms`)
      }
      // A server without durable acks (Yjs) goes on writing after it has forwarded everything.
      const busyMs = await waitForQuiet(server)
      log(`  ${row}: server busy for ${(busyMs / 1000).toFixed(1)} s after the last read`)
      for (let r = 0; r < runs; r++) {
        await server.restart()
        const ms = await runInChild(SELF, 'freshRead', base, { timeoutMs: TIME_LIMIT_MS + 30_000, execArgv: profileArgs(`${NAME}-${system}-clients`) })
        results.add('coldsync', row, 'restarted', 'ms', ms)
        log(`  ${row} run ${r + 1}, just-restarted server: ${ms.toFixed(1)} ms`)
      }
    } finally {
      await server.stop()
      await removeDir(dataDir)
    }
  }
}

/** Times one fresh client from connect until it holds all `keys` keys. */
export async function freshRead({ system, url, secret, user, keys }) {
  const { connect } = await loadClient(system)
  // Cubby's adapter loads the token signer on its first connect; in a fresh driver process that module load (seconds
  // on a loaded machine) would be timed as the sync.
  if (system === 'cubby' || system === 'redis') await cubbyToken(secret, user)
  const t0 = performance.now()
  const client = await connect({ url, user, secret, cold: true })
  await client.ready()
  // Poll on every change until the data is there: a peer's "synced" may come first.
  let complete = (await client.count()) >= keys
  if (!complete) {
    await withTimeout(new Promise((resolve) => {
      client.onAny(async () => {
        if (!complete && (await client.count()) >= keys) {
          complete = true
          resolve()
        }
      })
    }), TIME_LIMIT_MS, `${system}: a fresh client to hold ${keys} keys`).catch(async (error) => {
      throw new Error(`${error.message} (it holds ${await client.count()})`)
    })
  }
  const ms = performance.now() - t0
  const count = await client.count()
  await client.close()
  if (count !== keys) throw new Error(`${system}: fresh client holds ${count} keys, expected ${keys}`)
  return ms
}

/**
 * Stores `keys` keys through the system's own client (on `writerUrl`), waits until the server holds them,
 * then times fresh readers (on `url`).
 */
export async function populateAndRead({ system, url, writerUrl = url, secret, user, keys, runs }) {
  const { connect } = await loadClient(system)
  const writer = await connect({ url: writerUrl, user, secret })
  await writer.ready()
  const t0 = performance.now()
  const writes = []
  for (let k = 0; k < keys; k++) writes.push(Promise.resolve(writer.store(`k/${String(k).padStart(5, '0')}`, value100(k))))
  await Promise.all(writes)
  await withTimeout(writer.flush(), TIME_LIMIT_MS, `${system}: writer's acks`)
  if (writer.remoteCount) {
    const deadline = Date.now() + TIME_LIMIT_MS
    while ((await writer.remoteCount()) < keys && Date.now() < deadline) await sleep(50)
  }
  // A first reader makes sure the server holds everything (Yjs has no acks) and warms the server up.
  await freshRead({ system, url, secret, user, keys })
  const populateMs = performance.now() - t0
  const readMs = []
  for (let r = 0; r < runs; r++) readMs.push(await freshRead({ system, url, secret, user, keys }))
  await writer.close()
  return { populateMs, readMs }
}

/** Driver process: classic-level iterators over the same keys and values. */
export async function limitDriver({ keys }) {
  const dir = await makeTempDir('limit-cold')
  let db = new ClassicLevel(dir)
  const ops = []
  for (let k = 0; k < keys; k++) ops.push({ type: 'put', key: `cold/k/${String(k).padStart(5, '0')}`, value: value100(k) })
  await db.batch(ops, { sync: true })
  const readAll = async () => {
    let n = 0
    for await (const [key, value] of db.iterator({ gte: 'cold/', lt: 'cold0' })) if (key && value) n++
    if (n !== keys) throw new Error(`iterator read ${n} keys`)
  }
  await readAll()
  let t0 = performance.now()
  await readAll()
  const iterateMs = performance.now() - t0
  await db.close()
  db = new ClassicLevel(dir)
  t0 = performance.now()
  await db.open()
  await readAll()
  const openIterateMs = performance.now() - t0
  await db.close()
  await removeDir(dir)
  return { iterateMs, openIterateMs }
}

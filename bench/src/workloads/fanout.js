// Workload 2: fan-out throughput. 25 users with 2 clients each (50 clients); every client stores 200
// keys without waiting for the server; the clock stops when every client has seen all of its
// partner's keys. Reports writes/s and the CPU seconds of the server and of the client process, and for
// Cubby the server CPU per acknowledged write. On the Redis deployment each user's two clients are on
// different nodes (a on node 1, b on node 2), so every write crosses Redis; there the CPU per write is
// both nodes' together, and Redis's apart. Limit: the same writes as classic-level synced batches (one
// per client) in one process. A second round of the same writes in the same processes, once the servers are quiet,
// is reported beside it as a diagnostic: the first runs the client libraries' code cold.
import { performance } from 'node:perf_hooks'
import { ClassicLevel } from 'classic-level'
import { loadClient } from '../clients/index.js'
import { runInChild } from '../lib/driver.js'
import { procStats, selfCpuSeconds } from '../lib/proc.js'
import { redisCpuSeconds } from '../lib/redisCpuSeconds.js'
import { waitForQuiet } from '../lib/server.js'
import { makeTempDir, removeDir, value100, withTimeout } from '../lib/util.js'
import { rowName } from '../servers/cubby-redis.js'
import { withServers } from '../servers/index.js'
import { RAW } from './propagation.js'

const SELF = import.meta.url
const NAME = 'fanout'
const TIME_LIMIT_MS = 120_000

export async function run({ runs, quick, systems, results, log, profileArgs }) {
  const shape = quick ? { users: 25, keys: 40 } : { users: 25, keys: 200 }
  // One run takes about a second and a half, so take at least 5 for a steadier median.
  const n = quick ? runs : Math.max(runs, 5)
  await withServers(systems, { label: NAME, profileArgs }, async (servers) => {
    // Every server of the workload stays up for all runs, and one without durable acks (Yjs) goes on writing
    // for seconds after its clients have everything: each timed run starts only once every server is quiet,
    // so that no system runs in the shadow of the one before it.
    const settle = async () => {
      for (const [system, server] of Object.entries(servers)) {
        const busyMs = await waitForQuiet(server, { quietMs: 300, timeoutMs: 30_000 })
        if (busyMs > 200) log(`  (waited ${(busyMs / 1000).toFixed(1)} s for the ${system} server to go quiet)`)
      }
    }
    for (let r = 0; r < n; r++) {
      await settle()
      const limit = await runInChild(SELF, 'limitDriver', shape)
      results.add(NAME, 'limit', 'writes/s', 'writes/s', limit.writesPerSecond)
      results.add(NAME, 'limit', 'cpu s (process)', 's', limit.cpuSeconds)
      log(`  limit run ${r + 1}: ${Math.round(limit.writesPerSecond)} writes/s`)
      for (const system of systems) {
        const { url, url2, secret, pid, nodePids, redisUrl } = servers[system]
        const params = { system, url, url2, secret, serverPids: nodePids ?? [pid], redisUrl, run: r, ...shape }
        await settle()
        const res = await runInChild(SELF, 'drive', params, { timeoutMs: TIME_LIMIT_MS + 60_000, execArgv: profileArgs(`${NAME}-${system}-clients`) })
        const row = rowName(system)
        results.add(NAME, row, 'writes/s', 'writes/s', res.writesPerSecond)
        results.add(NAME, row, 'cpu s (server)', 's', res.serverCpuSeconds)
        results.add(NAME, row, 'cpu s (clients)', 's', res.clientCpuSeconds)
        if (res.ackedPerSecond !== undefined) results.add(NAME, row, 'acked writes/s', 'writes/s', res.ackedPerSecond)
        if (res.serverCpuPerWrite !== undefined) results.add(NAME, row, 'server cpu per acked write', 'µs', res.serverCpuPerWrite * 1e6)
        if (res.redisCpuPerWrite !== undefined) results.add(NAME, row, 'redis cpu per acked write', 'µs', res.redisCpuPerWrite * 1e6)
        results.add(NAME, row, 'writes/s, second round (diagnostic)', 'writes/s', res.secondRoundWritesPerSecond)
        results.add(NAME, row, 'cpu s (clients), second round', 's', res.secondRoundClientCpuSeconds)
        const perWrite = res.serverCpuPerWrite === undefined ? '' : `, server ${(res.serverCpuPerWrite * 1e6).toFixed(1)} µs/write`
        const redisPerWrite = res.redisCpuPerWrite === undefined ? '' : `, redis ${(res.redisCpuPerWrite * 1e6).toFixed(1)} µs/write`
        log(`  ${row} run ${r + 1}: ${Math.round(res.writesPerSecond)} writes/s, server ${res.serverCpuSeconds.toFixed(2)} cpu s, clients ${res.clientCpuSeconds.toFixed(2)} cpu s${perWrite}${redisPerWrite}; second round ${Math.round(res.secondRoundWritesPerSecond)} writes/s, clients ${res.secondRoundClientCpuSeconds.toFixed(2)} cpu s`)
        if (system === 'cubby') {
          // The same writes through the server alone: raw sockets, one push per client, no client library.
          await settle()
          const raw = await runInChild(SELF, 'drive', { ...params, system: 'cubby-raw', run: `raw-${r}` }, { timeoutMs: TIME_LIMIT_MS + 60_000 })
          results.add(NAME, RAW, 'writes/s', 'writes/s', raw.writesPerSecond)
          results.add(NAME, RAW, 'cpu s (server)', 's', raw.serverCpuSeconds)
          results.add(NAME, RAW, 'cpu s (clients)', 's', raw.clientCpuSeconds)
          results.add(NAME, RAW, 'server cpu per acked write', 'µs', raw.serverCpuPerWrite * 1e6)
          log(`  ${RAW} run ${r + 1}: ${Math.round(raw.writesPerSecond)} writes/s, server ${raw.serverCpuSeconds.toFixed(2)} cpu s, clients ${raw.clientCpuSeconds.toFixed(2)} cpu s`)
        }
      }
    }
  })
}

/**
 * Driver process: all 50 clients; each user's b client on `url2` when there is a second node. The server
 * CPU is the sum over `serverPids`; Redis's (at `redisUrl`) is read apart.
 */
export async function drive({ system, url, url2 = url, secret, serverPids, redisUrl, run, users, keys }) {
  const { connect } = await loadClient(system)
  const serverCpu = () => serverPids.reduce((sum, pid) => sum + procStats(pid).cpuSeconds, 0)
  const redisCpu = async () => (redisUrl === undefined ? 0 : redisCpuSeconds(redisUrl))
  const pairs = []
  for (let u = 0; u < users; u++) {
    const user = `fan-${run}-${u}`
    const [a, b] = await Promise.all([connect({ url, user, secret }), connect({ url: url2, user, secret })])
    pairs.push([a, b])
  }
  const clients = pairs.flat()
  await Promise.all(clients.map((c) => c.ready()))
  // Each client waits for its partner's keys: side a writes a/0..a/199, side b writes b/0..b/199 (in the second
  // round 2a/… and 2b/…). One listener per client, pointed at the round under way.
  const waits = pairs.flatMap(([a, b]) => [
    [a, 'b/'],
    [b, 'a/'],
  ].map(([client, suffix]) => {
    const wait = { prefix: suffix, seen: new Set(), resolve: () => {} }
    client.onRemote((key) => {
      if (!key.startsWith(wait.prefix)) return
      wait.seen.add(key)
      if (wait.seen.size === keys) wait.resolve()
    })
    return Object.assign(wait, { suffix })
  }))
  /** One round: every client stores its keys without waiting; resolves when every partner has seen them all. */
  const round = (tag) => {
    const seen = waits.map((wait) => new Promise((resolve) => Object.assign(wait, { prefix: tag + wait.suffix, seen: new Set(), resolve })))
    const writes = []
    for (const [a, b] of pairs) {
      for (const [client, side] of [[a, 'a'], [b, 'b']]) {
        for (let k = 0; k < keys; k++) writes.push(Promise.resolve(client.store(`${tag}${side}/${k}`, value100(k))))
      }
    }
    return withTimeout(Promise.all([...seen, ...writes]), TIME_LIMIT_MS, `${system}: every client to see its partner's keys`)
  }
  const server0 = serverCpu()
  const redis0 = await redisCpu()
  const cpu0 = selfCpuSeconds()
  const t0 = performance.now()
  await round('')
  const t1 = performance.now()
  const server1 = serverCpu()
  const cpu1 = selfCpuSeconds()
  // Cubby also reports when every write is acknowledged as durable (flush = synced()).
  await withTimeout(Promise.all(clients.map((c) => c.flush())), TIME_LIMIT_MS, `${system}: acks`)
  const t2 = performance.now()
  // The cost per write runs until the last ack, when every write is durable and forwarded.
  const server2 = serverCpu()
  const redis2 = await redisCpu()
  // A second round of the same writes (other keys) in the same processes: the first runs the client libraries'
  // code cold (a fresh driver process), this one after 10,000 writes of it. Diagnostic, beside the first. It
  // starts once the servers are quiet, as each run does (Yjs's goes on writing after its clients have everything).
  await waitForQuiet({ name: system, stats: () => ({ cpuSeconds: serverCpu() }) }, { quietMs: 300, timeoutMs: 30_000 })
  const cpu3 = selfCpuSeconds()
  const t3 = performance.now()
  await round('2')
  const t4 = performance.now()
  const cpu4 = selfCpuSeconds()
  await withTimeout(Promise.all(clients.map((c) => c.flush())), TIME_LIMIT_MS, `${system}: acks`)
  await Promise.all(clients.map((c) => c.close()))
  const total = users * 2 * keys
  const acked = system === 'cubby' || system === 'cubby-raw' || system === 'redis'
  return {
    writesPerSecond: total / ((t1 - t0) / 1000),
    ackedPerSecond: acked ? total / ((t2 - t0) / 1000) : undefined,
    serverCpuPerWrite: acked ? (server2 - server0) / total : undefined,
    redisCpuPerWrite: redisUrl === undefined ? undefined : (redis2 - redis0) / total,
    serverCpuSeconds: server1 - server0,
    clientCpuSeconds: cpu1 - cpu0,
    secondRoundWritesPerSecond: total / ((t4 - t3) / 1000),
    secondRoundClientCpuSeconds: cpu4 - cpu3,
  }
}

/** Driver process: one synced batch per client's writes, all issued together (LevelDB group-commits them). */
export async function limitDriver({ users, keys }) {
  const dir = await makeTempDir('limit-fanout')
  const db = new ClassicLevel(dir)
  await db.open()
  const cpu0 = selfCpuSeconds()
  const t0 = performance.now()
  const batches = []
  for (let u = 0; u < users; u++) {
    for (const side of ['a', 'b']) {
      const ops = []
      for (let k = 0; k < keys; k++) ops.push({ type: 'put', key: `fan-${u}/${side}/${k}`, value: value100(k) })
      batches.push(db.batch(ops, { sync: true }))
    }
  }
  await Promise.all(batches)
  const t1 = performance.now()
  const cpu1 = selfCpuSeconds()
  await db.close()
  await removeDir(dir)
  return { writesPerSecond: (users * 2 * keys) / ((t1 - t0) / 1000), cpuSeconds: cpu1 - cpu0 }
}

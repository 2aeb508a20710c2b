// Workload 1: propagation latency. Two clients of one user on separate connections; A stores a new
// key with a 100-byte value and the clock stops when B's change event reports it, strictly one at a
// time. Limit: a bare ws echo round trip between two processes plus one synced classic-level put.
// On the Redis deployment A is connected to node 1 and B to node 2, so every write crosses Redis.
import { fork } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { WebSocket } from 'ws'
import { loadClient } from '../clients/index.js'
import { runInChild } from '../lib/driver.js'
import { procStats } from '../lib/proc.js'
import { redisCpuSeconds } from '../lib/redisCpuSeconds.js'
import { readStageMedians, STAGE_TRACE, STAGES } from '../lib/stageTimeline.js'
import { latencySummary } from '../lib/stats.js'
import { KeyWaiter, makeTempDir, removeDir, value100, withTimeout } from '../lib/util.js'
import { rowName } from '../servers/cubby-redis.js'
import { startServer, withServers } from '../servers/index.js'

const SELF = import.meta.url
const NAME = 'propagation'
/** The Cubby server measured through raw sockets, without the client library. */
export const RAW = 'cubby server, raw sockets'
/** The raw-socket round again, on a server that records its stages (a diagnostic: the recording costs a little). */
const STAGE_ROW = 'cubby server stages, µs from the push frame (diagnostic)'
const PEER = fileURLToPath(new URL('../lib/peer.js', import.meta.url))
const TIME_LIMIT_MS = { cubby: 60_000, redis: 60_000, yjs: 60_000, pouchdb: 120_000 }

export async function run({ runs, quick, systems, results, log, profileArgs }) {
  const counts = quick ? { warmup: 20, timed: 200 } : { warmup: 50, timed: 1000 }
  await withServers(['ws', ...systems], { label: NAME, profileArgs }, async (servers) => {
    for (let r = 0; r < runs; r++) {
      const limit = await runInChild(SELF, 'limitDriver', { url: servers.ws.url, ...counts })
      results.add(NAME, 'ws round trip', 'p50', 'ms', limit.rtt.p50)
      results.add(NAME, 'ws round trip', 'p99', 'ms', limit.rtt.p99)
      results.add(NAME, 'synced put', 'p50', 'ms', limit.put.p50)
      results.add(NAME, 'synced put', 'p99', 'ms', limit.put.p99)
      results.add(NAME, 'limit', 'p50', 'ms', limit.rtt.p50 + limit.put.p50)
      results.add(NAME, 'limit', 'p99', 'ms', limit.rtt.p99 + limit.put.p99)
      results.add(NAME, 'getMany + synced batch (diagnostic)', 'p50', 'ms', limit.commit.p50)
      results.add(NAME, 'synced put after a ws round trip (diagnostic)', 'p50', 'ms', limit.paced.p50)
      log(`  limit run ${r + 1}: rtt p50 ${limit.rtt.p50.toFixed(3)} ms, synced put p50 ${limit.put.p50.toFixed(3)} ms (after a ws round trip ${limit.paced.p50.toFixed(3)} ms), getMany + synced batch p50 ${limit.commit.p50.toFixed(3)} ms`)
      for (const system of systems) {
        const { url, url2, secret } = servers[system]
        const params = { system, url, peerUrl: url2 ?? url, secret, user: `prop-${r}`, ...counts, timeLimitMs: TIME_LIMIT_MS[system] }
        const cost = await writeCost(servers[system])
        const res = await runInChild(SELF, 'drive', params, { timeoutMs: TIME_LIMIT_MS[system] + 60_000, execArgv: profileArgs(`${NAME}-${system}-clients`) })
        const { serverSeconds, redisSeconds } = await cost.stop()
        results.add(NAME, rowName(system), 'p50', 'ms', res.p50)
        results.add(NAME, rowName(system), 'p99', 'ms', res.p99)
        if (system === 'cubby' || system === 'redis') {
          // Writes one at a time: the other end of the cost per write from the fan-out's batches (includes
          // the two devices' connect and the warm-up, both in the count).
          const writes = counts.warmup + counts.timed
          results.add(NAME, rowName(system), 'server cpu per write', 'µs', (serverSeconds / writes) * 1e6)
          if (redisSeconds !== undefined) results.add(NAME, rowName(system), 'redis cpu per write', 'µs', (redisSeconds / writes) * 1e6)
        }
        log(`  ${rowName(system)} run ${r + 1}: p50 ${res.p50.toFixed(3)} ms, p99 ${res.p99.toFixed(3)} ms (n=${res.n})`)
        if (system === 'cubby') {
          // The same round through the server only: raw sockets speaking the protocol, no client library.
          const raw = await runInChild(SELF, 'drive', { ...params, system: 'cubby-raw', user: `prop-raw-${r}` }, { timeoutMs: TIME_LIMIT_MS.cubby + 60_000 })
          results.add(NAME, RAW, 'p50', 'ms', raw.p50)
          results.add(NAME, RAW, 'p99', 'ms', raw.p99)
          log(`  ${RAW} run ${r + 1}: p50 ${raw.p50.toFixed(3)} ms, p99 ${raw.p99.toFixed(3)} ms`)
          const stages = await stageTimeline({ ...params, user: `prop-stages-${r}` }, counts.warmup)
          for (const stage of STAGES) results.add(NAME, STAGE_ROW, stage, 'µs', stages[stage])
          log(`  stages run ${r + 1} (n=${stages.n}), µs from the push frame: ${STAGES.map((s) => `${s} ${stages[s].toFixed(0)}`).join(', ')}`)
        }
      }
    }
  })
}

/**
 * The raw-socket round on a server of its own, started with the stage preload: the median µs from a push frame's
 * arrival to each stage of its write (see lib/stageTimeline.js), after the warm-up.
 */
async function stageTimeline(params, warmup) {
  const dataDir = await makeTempDir(`${NAME}-stages`)
  const server = await startServer('cubby', { dataDir, secret: params.secret, nodeArgs: ['--require', STAGE_TRACE] })
  const { pid } = server
  try {
    await runInChild(SELF, 'drive', { ...params, system: 'cubby-raw', url: server.url, peerUrl: server.url }, { timeoutMs: TIME_LIMIT_MS.cubby + 60_000 })
  } finally {
    await server.stop()
    await removeDir(dataDir)
  }
  return readStageMedians(pid, warmup)
}

/** Starts counting the CPU of a server's processes (both nodes', and Redis's apart); `stop()` returns the seconds. */
async function writeCost(server) {
  const pids = server.nodePids ?? [server.pid]
  const serverCpu = () => pids.reduce((sum, pid) => sum + procStats(pid).cpuSeconds, 0)
  const redisCpu = async () => (server.redisUrl === undefined ? undefined : redisCpuSeconds(server.redisUrl))
  const server0 = serverCpu()
  const redis0 = await redisCpu()
  return {
    stop: async () => {
      const serverSeconds = serverCpu() - server0
      const redis1 = await redisCpu()
      return { serverSeconds, redisSeconds: redis1 === undefined ? undefined : redis1 - redis0 }
    },
  }
}

/**
 * Driver process: device A here (on `url`), device B in a process of its own (lib/peer.js, on `peerUrl`),
 * one store at a time. Both read process.hrtime, which is one clock for every process of the machine.
 */
export async function drive({ system, url, peerUrl = url, secret, user, warmup, timed, timeLimitMs }) {
  const peer = fork(PEER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.execArgv })
  try {
    const seen = new KeyWaiter()
    const peerReady = new Promise((resolve, reject) => {
      peer.on('message', (m) => (m.ready ? resolve() : seen.mark(m.key, BigInt(m.t))))
      peer.once('exit', (code) => reject(new Error(`${system}: device B exited with ${code}`)))
    })
    peer.send({ system, url: peerUrl, secret, user })
    await withTimeout(peerReady, 30_000, `${system}: device B to be ready`)
    const { connect } = await loadClient(system)
    const a = await connect({ url, user, secret })
    await a.ready()
    const samples = []
    const deadline = Date.now() + timeLimitMs
    for (let i = 0; i < warmup + timed && Date.now() < deadline; i++) {
      const key = `p/${i}`
      const t0 = process.hrtime.bigint()
      Promise.resolve(a.store(key, value100(i))).catch((error) => console.error('store failed', error))
      const t1 = await withTimeout(seen.wait(key), 10_000, `${system}: B to see ${key}`)
      if (i >= warmup) samples.push(Number(t1 - t0) / 1e6)
    }
    await a.close()
    if (samples.length < timed) throw new Error(`${system}: only ${samples.length} of ${timed} samples within ${timeLimitMs} ms`)
    return latencySummary(samples)
  } finally {
    const exited = new Promise((resolve) => peer.once('exit', resolve))
    if (peer.connected) peer.send('close')
    const timer = setTimeout(() => peer.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
}

/** Driver process: the physical limits, a ws echo round trip to another process and a synced put. */
export async function limitDriver({ url, warmup, timed }) {
  const ws = new WebSocket(url.replace(/^http/, 'ws'))
  await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 10_000, 'ws open')
  const payload = value100(0)
  const rtt = []
  for (let i = 0; i < warmup + timed; i++) {
    const echoed = new Promise((resolve) => ws.once('message', resolve))
    const t0 = performance.now()
    ws.send(payload)
    await withTimeout(echoed, 10_000, 'ws echo')
    if (i >= warmup) rtt.push(performance.now() - t0)
  }
  ws.close()
  const dir = await makeTempDir('limit-put')
  const db = new ClassicLevel(dir)
  await db.open()
  const put = []
  for (let i = 0; i < warmup + timed; i++) {
    const t0 = performance.now()
    await db.put(`p/${i}`, value100(i), { sync: true })
    if (i >= warmup) put.push(performance.now() - t0)
  }
  // Not a limit, a diagnostic: the same synced put in a server's rhythm, one ws round trip to another process
  // between two puts (only the put timed). Back to back, the put runs on a warm thread and disk queue; between
  // network waits, as a server's commits do, it takes longer on some machines (VMs waking idle vCPUs).
  const paced = []
  const ws2 = new WebSocket(url.replace(/^http/, 'ws'))
  await withTimeout(new Promise((resolve, reject) => ws2.once('open', resolve).once('error', reject)), 10_000, 'ws open')
  for (let i = 0; i < warmup + timed; i++) {
    const echoed = new Promise((resolve) => ws2.once('message', resolve))
    ws2.send(payload)
    await withTimeout(echoed, 10_000, 'ws echo')
    const t0 = performance.now()
    await db.put(`q/${i}`, value100(i), { sync: true })
    if (i >= warmup) paced.push(performance.now() - t0)
  }
  ws2.close()
  // Not a limit, a diagnostic: the shape of one Cubby commit (read the key's record and the client's
  // exactly-once record, then one synced batch of record, log entry, client record and user meta).
  const commit = []
  for (let i = 0; i < warmup + timed; i++) {
    const t0 = performance.now()
    await db.getMany([`d/u/c/${i}`, 'c/u/client'])
    await db.batch([
      { type: 'put', key: `d/u/c/${i}`, value: `${i}\n${JSON.stringify(value100(i))}` },
      { type: 'put', key: `l/u/${String(i).padStart(16, '0')}`, value: `c/${i}` },
      { type: 'put', key: 'c/u/client', value: `${i}\n${i}` },
      { type: 'put', key: 'm/u', value: `${i}\n0` },
    ], { sync: true })
    if (i >= warmup) commit.push(performance.now() - t0)
  }
  await db.close()
  await removeDir(dir)
  return { rtt: latencySummary(rtt), put: latencySummary(put), paced: latencySummary(paced), commit: latencySummary(commit) }
}

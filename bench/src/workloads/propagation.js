// Workload 1: propagation latency. Two clients of one user on separate connections; A stores a new
// key with a 100-byte value and the clock stops when B's change event reports it, strictly one at a
// time. Limit: a bare ws echo round trip between two processes plus one synced classic-level put.
import { performance } from 'node:perf_hooks'
import { ClassicLevel } from 'classic-level'
import { WebSocket } from 'ws'
import { loadClient } from '../clients/index.js'
import { runInChild } from '../lib/driver.js'
import { latencySummary } from '../lib/stats.js'
import { KeyWaiter, makeTempDir, removeDir, value100, withTimeout } from '../lib/util.js'
import { withServers } from '../servers/index.js'

const SELF = import.meta.url
const NAME = 'propagation'
const TIME_LIMIT_MS = { cubby: 60_000, yjs: 60_000, pouchdb: 120_000 }

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
      log(`  limit run ${r + 1}: rtt p50 ${limit.rtt.p50.toFixed(3)} ms, synced put p50 ${limit.put.p50.toFixed(3)} ms`)
      for (const system of systems) {
        const { url, secret } = servers[system]
        const params = { system, url, secret, user: `prop-${r}`, ...counts, timeLimitMs: TIME_LIMIT_MS[system] }
        const res = await runInChild(SELF, 'drive', params, { timeoutMs: TIME_LIMIT_MS[system] + 60_000, execArgv: profileArgs(`${NAME}-${system}-clients`) })
        results.add(NAME, system, 'p50', 'ms', res.p50)
        results.add(NAME, system, 'p99', 'ms', res.p99)
        log(`  ${system} run ${r + 1}: p50 ${res.p50.toFixed(3)} ms, p99 ${res.p99.toFixed(3)} ms (n=${res.n})`)
      }
    }
  })
}

/** Driver process: A and B of one user, one store at a time. */
export async function drive({ system, url, secret, user, warmup, timed, timeLimitMs }) {
  const { connect } = await loadClient(system)
  const a = await connect({ url, user, secret })
  const b = await connect({ url, user, secret })
  await Promise.all([a.ready(), b.ready()])
  const seen = new KeyWaiter()
  b.onRemote((key) => seen.mark(key))
  const samples = []
  const deadline = Date.now() + timeLimitMs
  for (let i = 0; i < warmup + timed && Date.now() < deadline; i++) {
    const key = `p/${i}`
    const arrived = seen.wait(key)
    const t0 = performance.now()
    Promise.resolve(a.store(key, value100(i))).catch((error) => console.error('store failed', error))
    await withTimeout(arrived, 10_000, `${system}: B to see ${key}`)
    if (i >= warmup) samples.push(performance.now() - t0)
  }
  await a.close()
  await b.close()
  if (samples.length < timed) throw new Error(`${system}: only ${samples.length} of ${timed} samples within ${timeLimitMs} ms`)
  return latencySummary(samples)
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
  await db.close()
  await removeDir(dir)
  return { rtt: latencySummary(rtt), put: latencySummary(put) }
}

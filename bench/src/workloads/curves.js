// Workload "curves" (opt-in: `--only curves`): how cost grows with size, as curves rather than single points.
// - cold: a user with 1,000 / 10,000 / 100,000 keys; time until a fresh client holds them all (running server and
//   just-restarted one) and the restarted server's RSS before and during the read; Yjs and the iterator alongside.
// - fanout: 10 / 100 / 1,000 users with 2 devices each, the same 20,000 writes spread over them (raw sockets, so the
//   server is the bottleneck); writes/s and server CPU per acknowledged write; classic-level batches alongside.
// - idle: server RSS with 1,000 / 5,000 / 10,000 idle connections; bare ws and Yjs alongside.
// - user: one user with 1,000 / 10,000 / 100,000 keys; HTTP get, list of a 100-key page and write (p50), and the
//   first write after a restart; classic-level get / iterator page / synced put alongside.
// CUBBY_BENCH_CURVES=cold,idle runs some of them. The report prints a table per curve (lib/curvesReport.js); plots written to bench/results/curves/
// (bench/results/curves-quick/ with --quick). Every wait has a bound; a point that does not finish within it is
// logged and left out, and the curve goes on.
import { fileURLToPath } from 'node:url'
import { addPoint, writePlots } from '../lib/curvesReport.js'
import { runInChild } from '../lib/driver.js'
import { openFileLimit, rssSampler } from '../lib/rssSampler.js'
import { waitForQuiet } from '../lib/server.js'
import { makeTempDir, removeDir } from '../lib/util.js'
import { startServer, withServers } from '../servers/index.js'

const COLD = new URL('./coldsync.js', import.meta.url).href
const FANOUT = new URL('./fanout.js', import.meta.url).href
const IDLE = new URL('./idle.js', import.meta.url).href
const USER = new URL('./curvesUser.js', import.meta.url).href
const PARTS = { cold: coldCurve, fanout: fanoutCurve, idle: idleCurve, user: userCurve }
const SIZES = {
  cold: { full: [1_000, 10_000, 100_000], quick: [500, 2_000, 5_000] },
  fanout: { full: [10, 100, 1_000], quick: [5, 20, 50] },
  idle: { full: [1_000, 5_000, 10_000], quick: [200, 500, 1_000] },
  user: { full: [1_000, 10_000, 100_000], quick: [500, 2_000, 5_000] },
}
/** Writes of one fan-out run, whatever the number of users. */
const FANOUT_WRITES = { full: 20_000, quick: 2_000 }
const MiB = 2 ** 20

export async function run({ runs, quick, systems, results, log }) {
  const parts = process.env.CUBBY_BENCH_CURVES?.split(',') ?? Object.keys(PARTS)
  for (const part of parts) if (!(part in PARTS)) throw new Error(`CUBBY_BENCH_CURVES: unknown curve ${part}; one of ${Object.keys(PARTS).join(', ')}`)
  if (!systems.includes('cubby')) throw new Error('the curves need the built cubby-server')
  const scale = quick ? 'quick' : 'full'
  for (const part of parts) {
    const t0 = Date.now()
    log(`  -- ${part}: ${SIZES[part][scale].join(' / ')}`)
    await PARTS[part]({ sizes: SIZES[part][scale], scale, runs, systems, results, log })
    log(`  -- ${part} took ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  }
  const dir = fileURLToPath(new URL(`../../results/${quick ? 'curves-quick' : 'curves'}/`, import.meta.url))
  for (const file of writePlots(results, dir)) log(`  plot: ${file}`)
}

/** Runs `fn`, and logs instead of throwing when it fails, so that one point past its bound does not end the curve. */
async function point(log, what, fn) {
  try {
    return await fn()
  } catch (error) {
    log(`  ${what}: left out (${String(error?.message ?? error).split('\n')[0]})`)
    return undefined
  }
}

async function coldCurve({ sizes, runs, systems, results, log }) {
  for (const keys of sizes) {
    for (let r = 0; r < runs; r++) {
      const limit = await runInChild(COLD, 'limitDriver', { keys })
      addPoint(results, 'cold-ms', 'limit (classic-level iterator)', keys, 'ms', limit.iterateMs)
    }
    for (const system of systems.filter((s) => s === 'cubby' || s === 'yjs')) {
      const dataDir = await makeTempDir(`curve-cold-${system}`)
      const secret = 'bench-secret-' + Math.random().toString(36).slice(2)
      const server = await startServer(system, { dataDir, secret })
      const base = { system, url: server.url, secret, user: 'cold', keys }
      try {
        // The writer stores every key and a first reader checks that the server holds them (coldsync.js; Yjs in
        // transactions of 1,000 keys, curvesUser.js).
        const populated = await point(log, `${system} ${keys} keys: populate`, () => system === 'yjs'
          ? runInChild(USER, 'populateYjs', base, { timeoutMs: 300_000 })
          : runInChild(COLD, 'populateAndRead', { ...base, runs: 0 }, { timeoutMs: 300_000 }))
        if (!populated) continue
        // Yjs goes on writing to y-leveldb after it has forwarded everything.
        await point(log, `${system} ${keys} keys: quiet`, () => waitForQuiet(server, { timeoutMs: 120_000 }))
        // Against the running server (the data as the writer left it), then against a just-restarted one, whose RSS
        // before and during the read tells what a cold sync itself holds in memory.
        for (let r = 0; r < runs; r++) {
          const ms = await point(log, `${system} ${keys} keys: read`, () => runInChild(USER, 'coldRead', base, { timeoutMs: 120_000 }))
          if (ms === undefined) break
          addPoint(results, 'cold-ms', `${system}, running`, keys, 'ms', ms)
          log(`  ${system} ${keys} keys run ${r + 1}, running server: ${ms.toFixed(0)} ms`)
        }
        for (let r = 0; r < runs; r++) {
          await server.restart()
          const before = server.stats().rssBytes
          const sampler = rssSampler(server.pid)
          const ms = await point(log, `${system} ${keys} keys: read after a restart`, () => runInChild(USER, 'coldRead', base, { timeoutMs: 120_000 }))
          const peak = sampler.stop()
          if (ms === undefined) break
          addPoint(results, 'cold-ms', `${system}, restarted`, keys, 'ms', ms)
          addPoint(results, 'cold-rss', `${system}, restarted: before`, keys, 'MiB', before / MiB)
          addPoint(results, 'cold-rss', `${system}, restarted: peak during the read`, keys, 'MiB', peak / MiB)
          log(`  ${system} ${keys} keys run ${r + 1}, just-restarted server: ${ms.toFixed(0)} ms, server RSS ${(before / MiB).toFixed(0)} → ${(peak / MiB).toFixed(0)} MiB peak`)
        }
      } finally {
        await server.stop()
        await removeDir(dataDir)
      }
    }
  }
}

async function fanoutCurve({ sizes, scale, runs, results, log }) {
  await withServers(['cubby'], { label: 'curve-fanout', profileArgs: () => [] }, async ({ cubby: server }) => {
    for (const users of sizes) {
      const keys = Math.max(1, Math.round(FANOUT_WRITES[scale] / (2 * users)))
      for (let r = 0; r < runs; r++) {
        const limit = await runInChild(FANOUT, 'limitDriver', { users, keys })
        addPoint(results, 'fanout-rate', 'limit (classic-level batches)', users, 'writes/s', limit.writesPerSecond)
        await waitForQuiet(server, { quietMs: 300, timeoutMs: 30_000 })
        const params = { system: 'cubby-raw', url: server.url, secret: server.secret, serverPids: [server.pid], run: `curve-${users}-${r}`, users, keys }
        const res = await point(log, `fan-out ${users} users`, () => runInChild(FANOUT, 'drive', params, { timeoutMs: 300_000 }))
        if (!res) continue
        addPoint(results, 'fanout-rate', 'cubby (raw sockets)', users, 'writes/s', res.writesPerSecond)
        addPoint(results, 'fanout-cpu', 'cubby (raw sockets)', users, 'µs', res.serverCpuPerWrite * 1e6)
        log(`  fan-out ${users} users x 2 devices x ${keys} writes, run ${r + 1}: ${Math.round(res.writesPerSecond)} writes/s, ` +
          `server ${(res.serverCpuPerWrite * 1e6).toFixed(1)} µs/write, RSS ${(server.stats().rssBytes / MiB).toFixed(0)} MiB`)
      }
    }
  })
}

const IDLE_SERIES = { ws: 'limit (bare ws)', cubby: 'cubby', yjs: 'yjs' }

async function idleCurve({ sizes, runs, systems, results, log }) {
  const files = openFileLimit()
  for (const connections of sizes) {
    // The driver holds every socket and the server accepts them all: each needs a descriptor (and cubby-server keeps a
    // reserve of up to 1,024 of its limit for the database).
    if (files !== undefined && files < connections + 1_100) {
      log(`  idle ${connections}: left out, the open-file limit is ${files} (raise it with ulimit -n)`)
      continue
    }
    // The default caps (10,000 connections, 5,000 per address) would refuse the largest sizes, all from 127.0.0.1.
    const cubbyArgs = ['--max-connections', String(connections + 1_000), '--max-connections-per-address', String(connections + 1_000)]
    for (let r = 0; r < runs; r++) {
      for (const system of ['ws', ...systems.filter((s) => s === 'cubby' || s === 'yjs')]) {
        const dataDir = await makeTempDir(`curve-idle-${system}`)
        const secret = 'bench-secret-' + Math.random().toString(36).slice(2)
        const server = await startServer(system, { dataDir, secret, cubbyArgs })
        try {
          const res = await point(log, `idle ${system} ${connections}`, () =>
            runInChild(IDLE, 'drive', { system, url: server.url, secret, serverPid: server.pid, connections }, { timeoutMs: 60_000 + connections * 30 }))
          if (!res) continue
          addPoint(results, 'idle-rss', IDLE_SERIES[system], connections, 'MiB', res.rssAfter / MiB)
          addPoint(results, 'idle-kib', IDLE_SERIES[system], connections, 'KiB', res.bytesPerConnection / 1024)
          log(`  idle ${system} ${connections} run ${r + 1}: RSS ${(res.rssBefore / MiB).toFixed(0)} → ${(res.rssAfter / MiB).toFixed(0)} MiB, ${(res.bytesPerConnection / 1024).toFixed(1)} KiB/conn`)
        } finally {
          await server.stop()
          await removeDir(dataDir)
        }
      }
    }
  }
}

async function userCurve({ sizes, runs, results, log }) {
  for (const keys of sizes) {
    for (let r = 0; r < runs; r++) {
      const limit = await runInChild(USER, 'limitDriver', { keys })
      for (const [name, ms] of Object.entries(limit)) addPoint(results, 'user-ms', `limit: ${name}`, keys, 'ms', ms)
    }
    const dataDir = await makeTempDir('curve-user')
    const secret = 'bench-secret-' + Math.random().toString(36).slice(2)
    const server = await startServer('cubby', { dataDir, secret })
    const base = { url: server.url, secret, user: 'big', keys }
    try {
      const populated = await point(log, `user ${keys} keys: populate`, () => runInChild(USER, 'populate', base, { timeoutMs: 300_000 }))
      if (!populated) continue
      for (let r = 0; r < runs; r++) {
        // A restart empties the write path's cache, so the first write meets the user cold.
        await server.restart()
        const rssStart = server.stats().rssBytes
        const res = await point(log, `user ${keys} keys: requests`, () => runInChild(USER, 'measure', base, { timeoutMs: 180_000 }))
        if (!res) continue
        await waitForQuiet(server, { quietMs: 300, timeoutMs: 30_000 })
        const rss = server.stats().rssBytes
        for (const [name, ms] of Object.entries(res)) addPoint(results, 'user-ms', `cubby ${name}`, keys, 'ms', ms)
        addPoint(results, 'user-rss', 'cubby', keys, 'MiB', rss / MiB)
        log(`  user ${keys} keys run ${r + 1}: ${Object.entries(res).map(([n, ms]) => `${n} ${ms.toFixed(2)} ms`).join(', ')}; ` +
          `server RSS ${(rssStart / MiB).toFixed(0)} → ${(rss / MiB).toFixed(0)} MiB`)
      }
    } finally {
      await server.stop()
      await removeDir(dataDir)
    }
  }
}

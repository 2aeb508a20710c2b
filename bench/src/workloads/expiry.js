// Workload 7: the expiry sweep. 100,000 values (1,000 keys of 100 users; --quick: 10,000) all expire at one
// moment on a real cubby-server process. Measured: the server's CPU over 5 s while the keys wait (an index by
// expiry time: idle keys should cost nothing), the time from the moment until the last value is deleted on the
// server (the sweep writes a tombstone per key, through the group commit, 500 per event-loop turn), the server's
// CPU seconds for that, its RSS, and the slowest store of a bystander user during the sweep (the event loop must
// keep serving). Cubby only, on LevelDB and on the Redis deployment (`redis`: two nodes on one redis-server, CPU and
// RSS summed over the three processes); the peers have no per-key expiry.
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { cubbyToken } from '../lib/token.js'
import { makeTempDir, removeDir, sleep, value100, withTimeout } from '../lib/util.js'
import { redisAvailable, startServer } from '../servers/index.js'
import { rowName } from '../servers/cubby-redis.js'

const USERS = 100
const PER_PUSH = 1000

export async function run({ runs, quick, systems, results, log, profileArgs }) {
  for (const system of ['cubby', 'redis']) {
    if (!systems.includes(system) || (system === 'redis' && !redisAvailable())) continue
    await runOn(system, { runs, quick, results, log, profileArgs })
  }
}

async function runOn(system, { runs, quick, results, log, profileArgs }) {
  const keysPerUser = quick ? 100 : 1000
  for (let r = 0; r < runs; r++) {
    const dataDir = await makeTempDir(`expiry-${system}`)
    const secret = 'bench-secret-' + Math.random().toString(36).slice(2)
    const server = await startServer(system, { dataDir, secret, nodeArgs: profileArgs(`expiry-${system}-server`) })
    try {
      const m = await measure(server, secret, keysPerUser, log)
      for (const [metric, unit, value] of [
        ['idle CPU with keys waiting', 's / 5 s', m.idleCpu],
        ['sweep: moment to last deletion', 'ms', m.sweepMs],
        ['sweep: server CPU', 's', m.sweepCpu],
        ['sweep: server CPU per key', 'µs', (m.sweepCpu / m.keys) * 1e6],
        ['sweep: bystander store, slowest', 'ms', m.bystanderMaxMs],
        ['server RSS after the sweep', 'MiB', m.rssMiB],
      ]) results.add('expiry', `${rowName(system)} (${m.keys} keys)`, metric, unit, value)
      log(`  ${system} run ${r + 1}: ${m.keys} keys swept in ${m.sweepMs.toFixed(0)} ms after the moment, ${m.sweepCpu.toFixed(2)} s CPU; idle ${m.idleCpu.toFixed(2)} s CPU in 5 s; bystander slowest ${m.bystanderMaxMs.toFixed(1)} ms`)
    } finally {
      await server.stop()
      await removeDir(dataDir)
    }
  }
}

async function measure(server, secret, keysPerUser, log) {
  const keys = USERS * keysPerUser
  // Population takes a few seconds; the moment is set well after it, measured by a first user's pace.
  const populateStart = performance.now()
  const moment = Date.now() + 15_000 + keys
  for (let u = 0; u < USERS; u++) await populate(server.url, await cubbyToken(secret, `user-${u}`), keysPerUser, moment)
  log(`  populated ${keys} expiring keys in ${((performance.now() - populateStart) / 1000).toFixed(1)} s`)
  if (Date.now() > moment - 6000) throw new Error('population took too long for the moment chosen')
  const idle0 = server.stats().cpuSeconds
  await sleep(5000)
  const idleCpu = server.stats().cpuSeconds - idle0
  await sleep(Math.max(0, moment - Date.now() - 300))
  const cpu0 = server.stats().cpuSeconds
  const bystander = await cubbyToken(secret, 'bystander')
  let bystanderMaxMs = 0
  let done = false
  const bystanding = (async () => {
    for (let i = 0; !done && i < 10_000; i++) {
      const t0 = performance.now()
      await put(server.url, bystander, `b${i % 10}`)
      bystanderMaxMs = Math.max(bystanderMaxMs, performance.now() - t0)
    }
  })()
  // Reads hide the keys from the moment on, so the clock stops once every user's head has moved past all of their
  // keys (each deletion moves it; a listing would be empty at once). LevelDB sweeps user after user (its index is
  // ordered by time, then user); Redis sweeps the due users of a step side by side, in no fixed order.
  const pending = new Set(Array.from({ length: USERS }, (_, u) => `user-${u}`))
  await withTimeout((async () => {
    while (pending.size > 0) {
      for (const user of [...pending]) if ((await head(server.url, await cubbyToken(secret, user), keysPerUser)) >= 2 * keysPerUser) pending.delete(user)
      if (pending.size > 0) await sleep(50)
    }
  })(), 120_000, 'the sweep')
  const sweepMs = Date.now() - moment
  done = true
  await bystanding
  const stats = server.stats()
  return { keys, idleCpu, sweepMs, sweepCpu: stats.cpuSeconds - cpu0, bystanderMaxMs, rssMiB: stats.rssBytes / 2 ** 20 }
}

/** The user's head, from a `welcome` (`cursor`: where this user stood after the population, so little is caught up). */
async function head(url, token, cursor) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/v1/sync')
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const welcome = new Promise((resolve) => ws.on('message', (data) => {
      const frame = JSON.parse(String(data))
      if (frame.type === 'welcome') resolve(frame.head)
    }))
    ws.send(JSON.stringify({ type: 'hello', v: 1, token, cursor }))
    return await withTimeout(welcome, 10_000, 'a welcome')
  } finally {
    ws.terminate()
  }
}

async function put(url, token, key) {
  const answer = await fetch(`${url}/v1/values/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '1' })
  if (!answer.ok) throw new Error(`bystander store failed: ${answer.status}`)
}

/** Pushes `count` values that expire at `moment` for one user over one socket, 1,000 per push, and waits for the acks. */
async function populate(url, token, count, moment) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/v1/sync')
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  let acked = 0
  const all = new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data))
      if (frame.type === 'ack') acked += frame.results.length
      if (frame.type === 'error') reject(new Error(frame.message))
      if (acked === count) resolve()
    })
  })
  ws.send(JSON.stringify({ type: 'hello', v: 1, token, cursor: 0, echo: false }))
  for (let mid = 1; mid <= count; mid += PER_PUSH) {
    const mutations = []
    for (let i = mid; i < Math.min(mid + PER_PUSH, count + 1); i++) mutations.push({ op: 'store', mid: i, key: `k${i}`, value: JSON.stringify(value100(i)), expiresAt: moment })
    ws.send(JSON.stringify({ type: 'push', clientId: 'populate', mutations }))
  }
  await withTimeout(all, 60_000, 'the acks of the population')
  ws.close()
}

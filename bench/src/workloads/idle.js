// Workload 4: idle connections. Server RSS per idle WebSocket at 2,000 connections (one user each),
// against a bare `ws` server. Cubby's sockets are authenticated (hello answered by synced); Yjs's are
// joined to a room (a Y.Doc per user, bound to y-leveldb). Each run starts a fresh server.
// cubby-server keeps V8's young generation at its initial size (apps/server/src/leanHeap.ts); the diagnostic
// `bare ws, small young generation` runs the bare server with the same setting, so the JS objects per
// connection can be compared apart from the heap sizing.
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocket } from 'ws'
import { runInChild } from '../lib/driver.js'
import { procStats } from '../lib/proc.js'
import { cubbyToken } from '../lib/token.js'
import { makeTempDir, removeDir, sleep, withTimeout } from '../lib/util.js'
import { startServer } from '../servers/index.js'

const SELF = import.meta.url
const NAME = 'idle'
const SYSTEMS = { ws: 'bare ws', 'ws-lean': 'bare ws, small young generation (diagnostic)', cubby: 'cubby', yjs: 'yjs' }
/** The node flag that gives a server what cubby-server sets for itself at start. */
const LEAN = ['--import', fileURLToPath(new URL('../servers/lean-heap.js', import.meta.url))]

export async function run({ runs, quick, systems, results, log, profileArgs, heapDir }) {
  const connections = quick ? 500 : 2_000
  const order = ['ws', ...(systems.includes('cubby') ? ['ws-lean'] : []), ...systems.filter((s) => s in SYSTEMS && s !== 'ws')]
  for (let r = 0; r < runs; r++) {
    for (const system of order) {
      const dataDir = await makeTempDir(`idle-${system}`)
      const secret = 'bench-secret-' + Math.random().toString(36).slice(2)
      const dir = heapDir && r === 0 ? join(heapDir, system) : undefined
      if (dir) mkdirSync(dir, { recursive: true })
      const heapArgs = dir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : []
      const kind = system === 'ws-lean' ? 'ws' : system
      const nodeArgs = [...(system === 'ws-lean' ? LEAN : []), ...heapArgs, ...profileArgs(`${NAME}-${system}-server`)]
      const server = await startServer(kind, { dataDir, secret, nodeArgs })
      try {
        const res = await runInChild(SELF, 'drive', { system: kind, url: server.url, secret, serverPid: server.pid, connections, heapDir: dir }, { timeoutMs: 180_000 })
        if (dir) {
          // Taking a snapshot grows the process, so this run's RSS does not count.
          log(`  ${SYSTEMS[system]}: heap snapshots before and with ${connections} sockets in ${dir} (node bench/src/heap.js ${dir}/after.heapsnapshot ${dir}/before.heapsnapshot --per ${connections})`)
          continue
        }
        results.add('idle', SYSTEMS[system], 'KiB/conn', 'KiB', res.bytesPerConnection / 1024)
        results.add('idle', SYSTEMS[system], 'server RSS', 'MiB', res.rssAfter / 2 ** 20)
        log(`  ${SYSTEMS[system]} run ${r + 1}: ${(res.bytesPerConnection / 1024).toFixed(1)} KiB per connection (RSS ${(res.rssBefore / 2 ** 20).toFixed(0)} → ${(res.rssAfter / 2 ** 20).toFixed(0)} MiB)`)
      } finally {
        await server.stop()
        await removeDir(dataDir)
      }
    }
  }
}

/** Opens one socket and resolves once the server has done all it does for an idle client. */
async function open(system, url, secret, i) {
  const base = url.replace(/^http/, 'ws')
  const target = system === 'cubby' ? `${base}/v1/sync` : system === 'yjs' ? `${base}/user-idle-${i}` : base
  const token = system === 'cubby' ? await cubbyToken(secret, `idle-${i}`) : undefined
  const ws = new WebSocket(target)
  const settled = new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('close', (code) => reject(new Error(`${system}: socket ${i} closed with ${code}`)))
    if (system === 'ws') ws.once('open', resolve)
    else if (system === 'yjs') ws.once('message', resolve) // the server's sync step 1
    else {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', v: 1, token, cursor: 0 })))
      ws.on('message', (data) => {
        if (JSON.parse(data.toString()).type === 'synced') resolve()
      })
    }
  })
  await withTimeout(settled, 30_000, `${system}: socket ${i} to settle`)
  ws.on('error', () => {}) // the run ends by terminating every socket
  return ws
}

async function snapshotHeap(pid, dir, name) {
  const before = new Set(readdirSync(dir))
  process.kill(pid, 'SIGUSR2')
  const deadline = Date.now() + 60_000
  let last = -1
  while (Date.now() < deadline) {
    await sleep(500)
    const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'))
    if (!file) continue
    const size = statSync(join(dir, file)).size
    if (size === last && size > 0) return renameSync(join(dir, file), join(dir, `${name}.heapsnapshot`))
    last = size
  }
  throw new Error('no heap snapshot within 60 s')
}

/** Driver process: holds the sockets while it reads the server's RSS. */
export async function drive({ system, url, secret, serverPid, connections, heapDir }) {
  await sleep(1000)
  const rssBefore = procStats(serverPid).rssBytes
  if (heapDir) await snapshotHeap(serverPid, heapDir, 'before')
  const sockets = []
  const concurrency = 50
  for (let i = 0; i < connections; i += concurrency) {
    const batch = []
    for (let j = i; j < Math.min(connections, i + concurrency); j++) batch.push(open(system, url, secret, j))
    sockets.push(...(await Promise.all(batch)))
  }
  await sleep(2000)
  const rssAfter = procStats(serverPid).rssBytes
  // --heap: the server writes a heap snapshot on SIGUSR2 while the sockets are still open.
  if (heapDir) await snapshotHeap(serverPid, heapDir, 'after')
  for (const ws of sockets) {
    ws.removeAllListeners('close')
    ws.terminate()
  }
  return { rssBefore, rssAfter, bytesPerConnection: (rssAfter - rssBefore) / connections }
}

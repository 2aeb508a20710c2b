import { spawn } from 'node:child_process'
import { trackProcess } from './cleanup.js'
import { procStats } from './proc.js'
import { withTimeout } from './util.js'

/**
 * Spawns a server under test as its own process (so its CPU and RSS can be read from /proc), on
 * 127.0.0.1, and resolves once its output matches `ready`. `restart()` starts it again with the same
 * command, port and data.
 */
export async function spawnServer({ name, args, env = {}, ready, url }) {
  const log = []
  let child
  let exited
  const start = async () => {
    child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    trackProcess(child)
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
    let out = ''
    const listening = new Promise((resolve, reject) => {
      const onData = (chunk) => {
        log.push(chunk.toString())
        out += chunk.toString()
        if (ready.test(out)) resolve()
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      void exited.then((code) => reject(new Error(`${name} exited with ${code} before it was ready:\n${log.join('')}`)))
    })
    await withTimeout(listening, 20_000, `${name} to start`)
  }
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    try {
      await withTimeout(exited, 10_000, `${name} to exit after SIGTERM`)
    } catch {
      child.kill('SIGKILL')
      await exited
    }
  }
  await start()
  return {
    name,
    url,
    get pid() {
      return child.pid
    },
    stats: () => procStats(child.pid),
    output: () => log.join(''),
    stop,
    restart: async () => {
      await stop()
      await start()
    },
  }
}

/**
 * Waits until a server process has used no CPU for `quietMs` (bounded by `timeoutMs`) and resolves with
 * how long that took. Used before a restart, because a server without durable acks (Yjs) keeps
 * writing to its database after it has forwarded the data.
 */
export async function waitForQuiet(server, { quietMs = 500, timeoutMs = 60_000 } = {}) {
  const t0 = Date.now()
  // Quiet means under 5% of one core over the window, not zero: a CPU profiler samples all the time.
  const samples = [{ t: Date.now(), cpu: server.stats().cpuSeconds }]
  while (Date.now() - t0 < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const now = { t: Date.now(), cpu: server.stats().cpuSeconds }
    samples.push(now)
    const start = samples.find((x) => now.t - x.t <= quietMs + 50)
    if (now.t - samples[0].t >= quietMs && (now.cpu - start.cpu) * 1000 < 0.05 * (now.t - start.t)) return Math.max(0, start.t - t0)
  }
  throw new Error(`${server.name} was still busy after ${timeoutMs} ms`)
}

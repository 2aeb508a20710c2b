#!/usr/bin/env node
// `pnpm bench`: every workload, Cubby and its limits and peers in the same run, min/median/max over
// runs, ratios against the targets. Options: --only a,b (or --only redis)  --quick  --runs N  --systems cubby,redis,yjs,pouchdb
// --report <saved.json>, --profile (V8 CPU profiles of every server and driver process), --heap (idle servers' heap snapshots)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { machineInfo } from './lib/machine.js'
import { Results } from './lib/results.js'
import { printReport } from './report.js'
import { cleanupAll } from './lib/cleanup.js'
import { cubbyAvailable, redisAvailable } from './servers/index.js'

const WORKLOADS = ['propagation', 'fanout', 'coldsync', 'idle', 'browser', 'bundle', 'expiry', 'curves']
// The curves take far longer than the rest (docs/benchmarks.md, "How cost grows"): only with --only curves.
const OPT_IN = ['curves']
// `--only redis`: the workloads that run on the Redis deployment, next to LevelDB and Yjs.
const ALIASES = { redis: { only: ['propagation', 'fanout', 'coldsync'], systems: ['cubby', 'redis', 'yjs'] } }

// `pnpm bench -- --only x` hands the script a literal `--`, which parseArgs would take as the end of options.
const argv = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'))
const { values: opts } = parseArgs({
  args: argv,
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    systems: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
    heap: { type: 'boolean', default: false },
    report: { type: 'string' },
  },
  allowPositionals: true,
})
// --report <file>: print the tables of a saved run again, measuring nothing.
if (opts.report) {
  const saved = JSON.parse(readFileSync(opts.report, 'utf8'))
  printReport(Results.from(saved.results), console.log)
  process.exit(0)
}
const asked = opts.only ? opts.only.split(',') : WORKLOADS.filter((name) => !OPT_IN.includes(name))
for (const name of asked) if (!WORKLOADS.includes(name) && !(name in ALIASES)) throw new Error(`unknown workload ${name}; one of ${[...WORKLOADS, ...Object.keys(ALIASES)].join(', ')}`)
const only = [...new Set(asked.flatMap((name) => ALIASES[name]?.only ?? [name]))]
const runs = Number(opts.runs ?? 3)
const aliasSystems = asked.every((name) => name in ALIASES) ? [...new Set(asked.flatMap((name) => ALIASES[name].systems))] : undefined
let systems = opts.systems ? opts.systems.split(',') : aliasSystems ?? ['cubby', 'redis', 'yjs', 'pouchdb']
if (systems.includes('cubby') && !cubbyAvailable()) {
  console.warn('cubby-server is not built (apps/server/dist/cli.js): run `pnpm build` first; measuring the others only')
  systems = systems.filter((s) => s !== 'cubby')
}
if (systems.includes('redis') && !redisAvailable()) {
  console.warn('the Redis deployment needs the built cubby-server and /usr/bin/redis-server; measuring the others only')
  systems = systems.filter((s) => s !== 'redis')
}

// Interrupted (Ctrl-C, a closed pipe): stop every server this run started and remove its temp dirs.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => void abort(signal))
process.stdout.on('error', () => void abort('EPIPE'))
async function abort(reason) {
  console.error(`\n${reason}: stopping the servers of this run`)
  await cleanupAll()
  process.exit(130)
}

const results = new Results()
// --profile: every server and driver process writes a V8 CPU profile (summarise with src/profile.js), and so
// do the browser workload's Cubby pages (through the DevTools protocol).
const profileDir = fileURLToPath(new URL(`../results/profiles/${new Date().toISOString().replace(/[:.]/g, '-')}/`, import.meta.url))
// --heap: the idle workload's servers write a heap snapshot with every socket open (first run only).
const heapDir = opts.heap ? fileURLToPath(new URL(`../results/heap/${new Date().toISOString().replace(/[:.]/g, '-')}/`, import.meta.url)) : undefined
const profileArgs = (label) => (opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}${label}`] : [])
const log = (line) => console.log(line)
const started = Date.now()
const failures = []
// Other work on the machine skews every number; the load average before and after each workload is
// kept with the results so that a disturbed run can be told apart.
const load = {}
for (const name of only) {
  const t0 = Date.now()
  const before = loadavg()[0]
  log(`\n## ${name} (load average ${before.toFixed(2)})`)
  if (before > 0.7) log(`  warning: the machine is busy (1-minute load ${before.toFixed(2)} on ${cpus().length} cores); numbers will be noisy`)
  try {
    const workload = await import(`./workloads/${name}.js`)
    await workload.run({ runs, quick: opts.quick, systems, results, log, profileArgs, profileDir: opts.profile ? profileDir : undefined, heapDir })
  } catch (error) {
    failures.push({ workload: name, error: String(error?.stack ?? error) })
    console.error(`${name} failed: ${error?.stack ?? error}`)
  }
  load[name] = { before, after: loadavg()[0] }
  log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
}

const report = { command: argv.join(' '), machine: await machineInfo(), runs, quick: opts.quick, seconds: (Date.now() - started) / 1000, load, results: results.toJSON(), failures }
printReport(results, log)
const dir = fileURLToPath(new URL('../results/', import.meta.url))
mkdirSync(dir, { recursive: true })
const out = opts.out ?? `${dir}${new Date().toISOString().replace(/[:.]/g, '-')}.json`
writeFileSync(out, JSON.stringify(report, null, 2) + '\n')
log(`\nraw results: ${out}`)
if (opts.profile) log(`CPU profiles: ${profileDir} (node bench/src/profile.js <file>)`)
log(`total ${report.seconds.toFixed(0)} s`)
process.exitCode = failures.length ? 1 : 0

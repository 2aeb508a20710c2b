import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { cpus, totalmem } from 'node:os'

const require = createRequire(import.meta.url)

const PACKAGES = [
  'ws', 'classic-level', 'yjs', 'y-websocket', '@y/websocket-server', 'y-leveldb', 'y-indexeddb', 'pouchdb',
  'pouchdb-browser', 'express-pouchdb', 'pouchdb-adapter-memory', 'idb-keyval', 'dexie', 'replicache',
  'playwright-core', 'esbuild', '@cubby/client',
]

function version(name) {
  try {
    return require(`${name}/package.json`).version
  } catch {
    // Packages whose exports hide package.json: walk up from the entry point.
    try {
      let dir = dirname(require.resolve(name))
      while (dir !== dirname(dir)) {
        const file = join(dir, 'package.json')
        if (existsSync(file)) {
          const pkg = JSON.parse(readFileSync(file, 'utf8'))
          if (pkg.name === name) return pkg.version
        }
        dir = dirname(dir)
      }
    } catch {
      // no readable package.json up the tree: the version is unknown
    }
    return undefined
  }
}

const run = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

/** The machine and the versions a run measured, for docs/benchmarks.md. */
export async function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model
  return {
    nproc: cpus().length,
    cpu: model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    chromium: run('/usr/bin/chromium', ['--version']),
    cubbyCommit: run('git', ['rev-parse', '--short', 'HEAD']),
    packages: Object.fromEntries(PACKAGES.map((p) => [p, version(p)])),
  }
}

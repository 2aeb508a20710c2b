#!/usr/bin/env node
// `npm start`: checks that the port is free, then installs, builds and runs cubby-server with the demo app.
// Plain Node and no dependencies: it runs on a fresh clone, before node_modules exist. Arguments after
// `npm start --` go to cubby-server (e.g. `npm start -- --port 3000`).
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'

const args = process.argv.slice(2)

/** The value of `--name V` or `--name=V` in the arguments (the last one wins, as in cubby-server). */
function flag(name) {
  let value
  args.forEach((arg, i) => {
    if (arg === `--${name}`) value = args[i + 1]
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3)
  })
  return value
}

const env = (name) => (process.env[name] === '' ? undefined : process.env[name])
const host = flag('host') ?? env('CUBBY_HOST') ?? '127.0.0.1'
const port = Number(flag('port') ?? env('CUBBY_PORT') ?? 8080)

/** Fails fast, before a minute of install and build, when the port is taken. Bad values are cubby-server's to report. */
async function checkPort() {
  if (!Number.isSafeInteger(port) || port <= 0 || port > 65535) return
  const probe = createServer()
  const error = await new Promise((resolve) => probe.once('error', resolve).listen({ host, port, exclusive: true }, () => resolve(undefined)))
  if (error === undefined) return new Promise((resolve) => probe.close(resolve))
  const why = error.code === 'EADDRINUSE' ? 'is in use' : `cannot be used (${error.code ?? error.message})`
  process.stderr.write(`npm start: port ${port} on ${host} ${why}.\n` +
    `Pick another: npm start -- --port 3000   (or CUBBY_PORT=3000 npm start)\n`)
  process.exit(1)
}

function run(script) {
  const result = spawnSync(process.execPath, ['scripts/pnpm.mjs', ...script], { stdio: 'inherit' })
  if (result.error) throw result.error
  if (result.status !== 0) process.exit(result.status ?? 1)
}

await checkPort()
run(['install', '--frozen-lockfile'])
run(['run', 'build'])
const server = spawn(process.execPath, ['apps/server/dist/cli.js', '--static', 'apps/demo/dist', ...args], { stdio: 'inherit' })
// Ctrl-C reaches the server through the terminal's process group (passing it on would be a second SIGINT, which
// stops the server at once): this script only waits for it. SIGTERM and SIGHUP sent to this script are passed on.
process.on('SIGINT', () => {})
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => server.kill(signal))
server.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// An app outside the workspace installs the packed tarballs with npm, as a user would before the packages are on a
// registry: nothing resolves to src/ here, so the published manifests, files and declaration files are what is tested.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FIXTURE = fileURLToPath(new URL('./app/', import.meta.url))
const LISTENING = /cubby-server listening on (http:\/\/127\.0\.0\.1:\d+)/

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** npm and pnpm pass their settings on in npm_* variables; the app's npm must read only its own (and the user's). */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|globalconfig|cafile|proxy|https_proxy|noproxy|strict_ssl)$/i
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || keep.test(name)))
}

/** Runs a command to its end, killed after `timeoutMs`; resolves with its exit code and output. */
function run(command: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Fails with the command's output when it did not exit 0. */
function ok(result: Run, what: string): Run {
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}\n${result.stdout}\n${result.stderr}`)
  return result
}

/**
 * The type errors that are ours: in the app or in a @cubby package's declarations (or with no file). Errors inside
 * third-party declarations are theirs (ioredis's import an untyped `redis-errors`) and only show with skipLibCheck off.
 */
function ownErrors(result: Run): string[] {
  const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => /error TS\d+/.test(line))
  const mine = lines.filter((line) => !line.startsWith('node_modules/') || line.startsWith('node_modules/@cubby/'))
  if (result.code !== 0 && lines.length === 0) return [`tsc exited with ${result.code} and no type error:\n${result.stdout}${result.stderr}`]
  return mine
}

/** The version of `name` installed for the workspace package in `dir`, so the app type-checks with the same tools. */
async function installedVersion(dir: string, name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(ROOT, dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  return manifest.version
}

/** Starts the app's `cubby-server` bin; resolves once it says where it listens. */
function startBin(app: string, dataDir: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const bin = join(app, 'node_modules', '.bin', 'cubby-server')
  const child = spawn(bin, ['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], { cwd: app, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`cubby-server did not report listening within 30 s:\n${output}`))
    }, 30_000)
    const seen = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = LISTENING.exec(output)
      if (!match?.[1]) return
      clearTimeout(timer)
      resolve({ child, url: match[1], output: () => output })
    }
    child.stdout.on('data', seen)
    child.stderr.on('data', seen)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`cubby-server exited with ${code} before listening:\n${output}`))
    })
  })
}

describe('the packed packages, installed with npm in an app outside the workspace', () => {
  let app = ''

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'cubby-consumer-'))
    const tarballs = join(app, 'tarballs')
    const packed = ok(await run(process.execPath, [join(ROOT, 'scripts/packPackages.mjs'), tarballs], { cwd: ROOT, timeoutMs: 120_000 }), 'packPackages')
    const packages = JSON.parse(packed.stdout) as Array<{ name: string; tarball: string }>
    expect(packages.map((p) => p.name).sort()).toEqual(
      ['@cubby/cli', '@cubby/client', '@cubby/protocol', '@cubby/react', '@cubby/redis', '@cubby/server', '@cubby/svelte', '@cubby/vue'],
    )
    await cp(FIXTURE, app, { recursive: true })
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'cubby-consumer', private: true, type: 'module' }, null, 2))
    const tools = [
      ['typescript', '.'],
      ['@types/node', '.'],
      ['react-dom', 'packages/react'],
      ['@types/react', 'packages/react'],
      ['@types/react-dom', 'packages/react'],
      ['ws', 'packages/client'],
      ['@types/ws', 'packages/client'],
      ['dexie', 'packages/client'],
    ] as const
    const specs = await Promise.all(tools.map(async ([name, dir]) => `${name}@${await installedVersion(dir, name)}`))
    const install = ['install', '--no-audit', '--no-fund', '--prefix', app, ...packages.map((p) => p.tarball), ...specs]
    ok(await run('npm', install, { cwd: app, timeoutMs: 400_000 }), 'npm install')
  }, 600_000)

  afterAll(async () => {
    if (app) await rm(app, { recursive: true, force: true })
  })

  it('installs each @cubby package from its tarball, not from the workspace', async () => {
    const lock = JSON.parse(await readFile(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; link?: boolean }> }
    const cubbies = Object.entries(lock.packages).filter(([path]) => path.includes('node_modules/@cubby/'))
    expect(cubbies.length).toBeGreaterThanOrEqual(8)
    for (const [path, entry] of cubbies) {
      expect(entry.link, path).toBeUndefined()
      expect(entry.resolved, path).toMatch(/^file:tarballs\/cubby-[a-z]+-[\d.]+\.tgz$/)
    }
  })

  it('type-checks an app that uses every public entry, under node16 and bundler resolution, without skipLibCheck', async () => {
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc')
    for (const config of ['tsconfig.json', 'tsconfig.bundler.json']) {
      const result = await run(process.execPath, [tsc, '-p', config], { cwd: app, timeoutMs: 280_000 })
      expect(ownErrors(result), `tsc -p ${config}\n${result.stdout}${result.stderr}`).toEqual([])
      if (config === 'tsconfig.json') expect(existsSync(join(app, 'out', 'sync.js'))).toBe(true)
    }
  }, 600_000)

  it('runs @cubby/server embedded in the app on LevelDB', async () => {
    const dataDir = join(app, 'embedded-data')
    const result = ok(await run(process.execPath, ['out/server.js', dataDir], { cwd: app, timeoutMs: 60_000 }), 'out/server.js')
    expect(JSON.parse(result.stdout)).toEqual({ plan: 'pro', health: 200 })
  }, 120_000)

  it('renders @cubby/react on the server with the initial value', async () => {
    const result = ok(await run(process.execPath, ['out/react.js'], { cwd: app, timeoutMs: 60_000 }), 'out/react.js')
    expect((JSON.parse(result.stdout) as { html: string }).html).toContain('light')
  }, 120_000)

  it('answers `npx cubby-server --help` from the installed bin', async () => {
    const result = ok(await run('npx', ['--yes=false', 'cubby-server', '--help'], { cwd: app, timeoutMs: 60_000 }), 'npx cubby-server --help')
    expect(result.stdout).toMatch(/^Usage: cubby-server/)
  }, 120_000)

  it('starts cubby-server through its bin and syncs one value from one device to another through it', async () => {
    const dataDir = join(app, 'bin-data')
    await mkdir(dataDir)
    const server = await startBin(app, dataDir)
    try {
      const result = ok(await run(process.execPath, ['out/sync.js', server.url], { cwd: app, timeoutMs: 60_000 }), 'out/sync.js')
      expect(JSON.parse(result.stdout)).toEqual({ greeting: 'hello from the laptop' })
    } finally {
      if (server.child.exitCode === null) {
        const exited = new Promise((resolve) => server.child.once('exit', resolve))
        server.child.kill('SIGTERM')
        await exited
      }
    }
  }, 120_000)
})

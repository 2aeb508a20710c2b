import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CLI_PATH, startCliServer } from '@cubby/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Exit {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a script to its end (bounded: killed after 20 s), optionally stopping to read stdout after the first chunk. */
function runNode(args: string[], options: { env?: Record<string, string>; closeStdoutEarly?: boolean } = {}): Promise<Exit> {
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    // Like `| head`: read a little, then close the pipe.
    if (options.closeStdoutEarly === true) child.stdout.destroy()
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(timer)
    resolve({ code, stdout, stderr })
  }))
}

const cli = (args: string[], env?: Record<string, string>): Promise<Exit> => runNode([CLI_PATH, ...args], env === undefined ? {} : { env })

/** A port some other program holds, until disposed. */
async function takePort(): Promise<{ port: number } & AsyncDisposable> {
  const server: Server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return {
    port: (server.address() as { port: number }).port,
    [Symbol.asyncDispose]: () => new Promise<void>((done) => server.close(() => done())),
  }
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubby-cli-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('usage errors', () => {
  it.each([
    [['--bogus'], {}, "Unknown option '--bogus'", 'cubby-server --help'],
    [[], { CUBBY_PORT: 'abc' }, 'CUBBY_PORT must be an integer', 'cubby-server --help'],
    [['--port', 'abc'], {}, '--port must be an integer', 'cubby-server --help'],
    [[], { CUBBY_MAX_USER_BYTES: '-3' }, 'CUBBY_MAX_USER_BYTES must be an integer', 'cubby-server --help'],
    [['users', 'frobnicate'], {}, 'unknown users command "frobnicate" (commands: list, export, import, delete, prune, devices, revoke)', 'cubby-server users --help'],
    [['users', 'prune'], {}, 'users prune needs --anonymous-unused-days N', 'cubby-server users --help'],
  ])('%j %j: one line naming what is wrong, a hint to the help, exit code 2', async (args, env, message, help) => {
    const { code, stdout, stderr } = await cli(args, env)
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.split('\n')).toEqual([expect.stringContaining(message), `Run '${help}' for usage.`, ''])
  })

  it('prints the users help on users --help', async () => {
    const { code, stdout } = await cli(['users', '--help'])
    expect([code, stdout]).toEqual([0, expect.stringContaining('users prune --anonymous-unused-days N')])
  })
})

describe('start-up failures', () => {
  it('refuses a --static folder that does not exist, naming it, and listens on nothing', async () => {
    const { code, stdout, stderr } = await cli(['--port', '0', '--data-dir', 'data', '--static', './typo'])
    expect(code).toBe(1)
    expect(stdout).not.toContain('listening')
    expect(stderr).toBe(`cubby-server: --static ./typo: no such folder (${join(dir, 'typo')}); build the app first or fix the path\n`)
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })

  it('says a port is taken and how to pick another, and leaves no data dir or secret behind', async () => {
    await using taken = await takePort()
    const { code, stderr } = await cli(['--port', String(taken.port), '--data-dir', 'data'])
    expect(code).toBe(1)
    expect(stderr).toBe(`cubby-server: Port ${taken.port} on 127.0.0.1 is in use; pick another with --port N or CUBBY_PORT=N\n`)
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })

  it('explains a data dir that another server holds, without a stack trace', async () => {
    await using server = await startCliServer()
    const { code, stderr } = await cli(['--port', '0', '--data-dir', server.dataDir])
    expect(code).toBe(1)
    expect(stderr).toContain(`The data dir ${server.dataDir} is in use by a running cubby-server`)
    expect(stderr).not.toMatch(/^\s+at /m)
  })

  it('explains a data dir it cannot open, without a stack trace', async () => {
    await mkdir(join(dir, 'data'))
    await writeFile(join(dir, 'data', 'db'), 'not a folder')
    const { code, stderr } = await cli(['--port', '0', '--data-dir', 'data'])
    expect(code).toBe(1)
    expect(stderr).toMatch(/^cubby-server: Cannot open .*data\/db: /)
    expect(stderr).not.toMatch(/^\s+at /m)
  })

  it('npm start checks the port before installing and building, and says how to pick another', async () => {
    await using taken = await takePort()
    const { code, stdout, stderr } = await runNode([join(ROOT, 'scripts/start.mjs'), '--data-dir', join(dir, 'data')], { env: { CUBBY_PORT: String(taken.port) } })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toBe(`npm start: port ${taken.port} on 127.0.0.1 is in use.\nPick another: npm start -- --port 3000   (or CUBBY_PORT=3000 npm start)\n`)
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })
})

describe('users export', () => {
  it('ends quietly with exit code 0 when the reader stops early (| head)', async () => {
    const lines = [JSON.stringify({ type: 'user', v: 1, userId: 'x', head: 3000, clearRev: 0 })]
    for (let i = 1; i <= 3000; i++) lines.push(JSON.stringify({ type: 'value', key: `key-${i}`, rev: i, value: JSON.stringify('v'.repeat(500)) }))
    await writeFile(join(dir, 'export.ndjson'), `${lines.join('\n')}\n`)
    await using server = await startCliServer()
    await server.stop()
    const imported = await cli(['users', 'import', 'bob', '--in', 'export.ndjson', '--data-dir', server.dataDir])
    expect(imported).toMatchObject({ code: 0, stderr: '' })
    const head = await runNode([CLI_PATH, 'users', 'export', 'bob', '--data-dir', server.dataDir], { closeStdoutEarly: true })
    expect([head.code, head.stderr]).toEqual([0, ''])
  })
})

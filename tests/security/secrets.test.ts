import { createHmac, randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectTestClient, signTestToken, startCliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'
import { answerToHello, rawHttp } from './attack.js'

const secret = (): string => randomBytes(32).toString('base64url')

/** Replaces the secret file the way operations.md says: written whole under another name, 0600, renamed into place. */
async function writeSecretFile(dataDir: string, lines: string[]): Promise<void> {
  const temp = join(dataDir, 'secret.new')
  await writeFile(temp, `${lines.join('\n')}\n`, { mode: 0o600 })
  await chmod(temp, 0o600)
  await rename(temp, join(dataDir, 'secret'))
}

/** Sends SIGHUP and waits until the server reports the reload (the `count`th one). */
async function hangUp(server: { pid: number; output: () => string }, count: number): Promise<void> {
  process.kill(server.pid, 'SIGHUP')
  await vi.waitFor(() => expect(server.output().split('token secrets reloaded').length - 1).toBe(count), { timeout: 10_000 })
}

it('reloads the secret file on SIGHUP: live sessions stay, the new secret signs, the old one verifies until removed', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'cubby-sighup-'))
  const [a, b] = [secret(), secret()]
  await writeSecretFile(dataDir, [a])
  try {
    await using server = await startCliServer({ dataDir, env: { CUBBY_SECRET: '' } })
    const pid = server.pid
    const aToken = signTestToken(a, 'rosa')
    await using client = connectTestClient(server.url, { auth: aToken })
    await client.store('before', 1)
    await client.synced()

    // Step 1: B signs, A still verifies. The session of A's token is never dropped.
    await writeSecretFile(dataDir, [b, a])
    expect((await stat(join(dataDir, 'secret'))).mode & 0o777).toBe(0o600)
    await hangUp(server, 1)
    await client.store('after-reload', 2)
    await client.synced()
    await using viaB = connectTestClient(server.url, { auth: signTestToken(b, 'rosa') })
    await viaB.ready()
    await vi.waitFor(async () => expect(await viaB.get('after-reload')).toBe(2), { timeout: 10_000 })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: aToken })).status).toBe(200)
    const { token: issued } = (await rawHttp(server.url, 'POST', '/v1/identities')).json as { token: string }
    const [header, payload] = issued.split('.')
    expect(issued).toBe(`${header}.${payload}.${createHmac('sha256', b).update(`${header}.${payload}`).digest('base64url')}`)
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: issued })).status).toBe(200)

    // Step 2: A is dropped from the file; its tokens are refused from now on, B's keep working.
    await writeSecretFile(dataDir, [b])
    await hangUp(server, 2)
    expect(await answerToHello(server.url, { type: 'hello', v: 1, token: aToken, cursor: 0 })).toMatchObject({ close: 4001 })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: aToken })).status).toBe(401)
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: issued })).status).toBe(200)
    const values = await rawHttp(server.url, 'GET', '/v1/values', { token: signTestToken(b, 'rosa') })
    expect((values.json as { keys: string[] }).keys).toEqual(['after-reload', 'before'])
    await client.close()

    // A missing file is not replaced by a random secret: the reload fails and the secrets in use stay.
    await rm(join(dataDir, 'secret'))
    process.kill(server.pid, 'SIGHUP')
    await vi.waitFor(() => expect(server.output()).toContain('token secrets NOT reloaded'), { timeout: 10_000 })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: issued })).status).toBe(200)

    expect(server.pid).toBe(pid)
    for (const s of [a, b, aToken, issued]) expect(server.output()).not.toContain(s)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})

it('keeps CUBBY_SECRET on SIGHUP (the environment cannot change) and re-reads the file\'s previous secrets', async () => {
  const old = secret()
  await using server = await startCliServer()
  const pid = server.pid
  await writeSecretFile(server.dataDir, ['ignored-first-line', old])
  await hangUp(server, 1)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: server.token('u') })).status).toBe(200)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: signTestToken(old, 'u') })).status).toBe(200)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: signTestToken('ignored-first-line', 'u') })).status).toBe(401)
  const { token: issued } = (await rawHttp(server.url, 'POST', '/v1/identities')).json as { token: string }
  const [header, payload] = issued.split('.')
  expect(issued.split('.')[2]).toBe(createHmac('sha256', server.secret).update(`${header}.${payload}`).digest('base64url'))
  expect(server.pid).toBe(pid)
})

it('rotates the secret in <data-dir>/secret without losing a session or a queued write', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'cubby-rotate-'))
  const [oldSecret, newSecret] = [secret(), secret()]
  await writeFile(join(dataDir, 'secret'), `${oldSecret}\n`, { mode: 0o600 })
  try {
    // CUBBY_SECRET empty: the server reads the secret file.
    await using server = await startCliServer({ dataDir, env: { CUBBY_SECRET: '' } })
    const oldToken = signTestToken(oldSecret, 'rosa')
    await using client = connectTestClient(server.url, { auth: oldToken })
    await client.store('before', 1)
    await client.synced()

    // Step 1: the new secret signs, the old one still checks; the client reconnects with its old token.
    await writeFile(join(dataDir, 'secret'), `${newSecret}\n${oldSecret}\n`)
    await server.stop()
    await client.store('while-restarting', 2)
    await server.start()
    await client.synced()
    await using fresh = connectTestClient(server.url, { auth: signTestToken(newSecret, 'rosa') })
    await fresh.ready()
    await vi.waitFor(async () => expect(await fresh.get('while-restarting')).toBe(2), { timeout: 10_000 })
    const { token: issued } = (await rawHttp(server.url, 'POST', '/v1/identities')).json as { token: string }
    await client.close()

    // Step 2, after the grace period: the old secret is gone and so are its tokens; new ones keep working.
    await writeFile(join(dataDir, 'secret'), `${newSecret}\n`)
    await server.restart()
    expect(await answerToHello(server.url, { type: 'hello', v: 1, token: oldToken, cursor: 0 })).toMatchObject({ close: 4001 })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: oldToken })).status).toBe(401)
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: issued })).status).toBe(200)
    expect(((await rawHttp(server.url, 'GET', '/v1/values', { token: signTestToken(newSecret, 'rosa') })).json as { keys: string[] }).keys).toEqual(['before', 'while-restarting'])
    for (const s of [oldSecret, newSecret]) expect(server.output()).not.toContain(s)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})

it('accepts CUBBY_PREVIOUS_SECRETS next to CUBBY_SECRET', async () => {
  const old = secret()
  await using server = await startCliServer({ env: { CUBBY_PREVIOUS_SECRETS: `unused-one,${old}` } })
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: signTestToken(old, 'u') })).status).toBe(200)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: server.token('u') })).status).toBe(200)
  expect(server.output()).not.toContain(old)
})

it.each(['text', 'json'])('makes its secret files 0600 and never writes a secret or a token to its output (--log-format %s)', async (format) => {
  await using server = await startCliServer({ args: ['--log-format', format], env: { CUBBY_SECRET: '' } })
  const files = { secret: join(server.dataDir, 'secret'), admin: join(server.dataDir, 'admin-token') }
  for (const file of Object.values(files)) expect((await stat(file)).mode & 0o777).toBe(0o600)
  const tokenSecret = (await readFile(files.secret, 'utf8')).trim()
  const admin = (await readFile(files.admin, 'utf8')).trim()
  const token = signTestToken(tokenSecret, 'quiet')
  const forged = signTestToken('not-the-secret', 'quiet')
  // Things that make a server log: bad tokens, bad admin credentials, malformed frames, oversized frames.
  await answerToHello(server.url, { type: 'hello', v: 1, token: forged, cursor: 0 })
  await answerToHello(server.url, { type: 'hello', v: 1, token: `${token}x`, cursor: 0 })
  await answerToHello(server.url, 'x'.repeat(5 * 1024 * 1024))
  await rawHttp(server.url, 'GET', '/v1/admin/users', { token: `${admin}x` })
  await rawHttp(server.url, 'GET', '/v1/values', { token: forged })
  await rawHttp(server.url, 'GET', '/metrics', { token: `${admin}x` })
  await rawHttp(server.url, 'GET', '/metrics', { token })
  await server.stop()
  const output = server.output()
  expect(output).toContain('listening')
  // The refusals above are logged (aggregated), in the format asked for.
  const logged = output.split('\n').filter((line) => line.includes('UNAUTHORIZED'))
  expect(logged.length).toBeGreaterThan(0)
  if (format === 'json') for (const line of logged) expect(JSON.parse(line)).toMatchObject({ level: 'warn', event: 'refused' })
  for (const s of [tokenSecret, admin, token, forged, token.split('.')[2]!]) expect(output).not.toContain(s)
})

import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectTestClient, signTestToken, startTestServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'
import { answerToHello, rawHttp } from './attack.js'

const secret = (): string => randomBytes(32).toString('base64url')

it('rotates the secret in <data-dir>/secret without losing a session or a queued write', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'cubby-rotate-'))
  const [oldSecret, newSecret] = [secret(), secret()]
  await writeFile(join(dataDir, 'secret'), `${oldSecret}\n`, { mode: 0o600 })
  try {
    // CUBBY_SECRET empty: the server reads the secret file.
    await using server = await startTestServer({ dataDir, env: { CUBBY_SECRET: '' } })
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
  await using server = await startTestServer({ env: { CUBBY_PREVIOUS_SECRETS: `unused-one,${old}` } })
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: signTestToken(old, 'u') })).status).toBe(200)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: server.token('u') })).status).toBe(200)
  expect(server.output()).not.toContain(old)
})

it('makes its secret files 0600 and never writes a secret or a token to its output', async () => {
  await using server = await startTestServer({ env: { CUBBY_SECRET: '' } })
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
  await server.stop()
  const output = server.output()
  expect(output).toContain('listening')
  for (const s of [tokenSecret, admin, token, forged, token.split('.')[2]!]) expect(output).not.toContain(s)
})

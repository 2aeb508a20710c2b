import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createMemoryCache } from '@cubby/client'
import { connectTestClient, signTestToken, startCliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'
import { rawHttp } from './attack.js'

// The real client against the real server, for what the server tells clients: a deleted user, a refused token.

it('makes a client of a deleted user drop its local copy, outbox and identity, and stay offline', async () => {
  await using server = await startCliServer()
  const admin = (await readFile(join(server.dataDir, 'admin-token'), 'utf8')).trim()
  const cache = createMemoryCache()
  const token = server.token('leaving')
  await cache.saveIdentity({ userId: 'leaving', token })
  await using client = connectTestClient(server.url, { auth: token, cache })
  const errors: string[] = []
  client.addEventListener('error', (e) => errors.push(e.detail.error.code))
  await client.store('mine', { secret: true })
  await client.synced()

  expect((await rawHttp(server.url, 'DELETE', '/v1/admin/users/leaving', { token: admin })).json).toEqual({ deleted: true })
  await vi.waitFor(() => expect(errors).toEqual(['UNAUTHORIZED']), { timeout: 10_000 })
  await vi.waitFor(async () => expect(await cache.loadIdentity()).toBeUndefined(), { timeout: 10_000 })
  expect(client.status).toBe('offline')
  expect(client.getSnapshot('mine')).toBeUndefined()
  expect(await (await cache.open('leaving')).load()).toEqual({ entries: [], outbox: [], cursor: 0 })
  const listed = (await rawHttp(server.url, 'GET', '/v1/admin/users', { token: admin })).json as { users: unknown[] }
  expect(listed.users).toEqual([])
})

it('calls auth again when the server refuses a token, and resumes without losing queued writes', async () => {
  await using server = await startCliServer()
  const tokens = [signTestToken('a-secret-that-was-rotated-away', 'renata'), server.token('renata')]
  let calls = 0
  await using client = connectTestClient(server.url, { auth: async () => tokens[Math.min(calls++, 1)]!, connect: false })
  await client.store('queued', 1)
  client.connect()
  await client.synced()
  expect(calls).toBeGreaterThanOrEqual(2)
  const res = await rawHttp(server.url, 'GET', '/v1/values/queued', { token: server.token('renata') })
  expect(res.json).toBe(1)
})

it('renews a token before it expires and carries on writing', async () => {
  await using server = await startCliServer()
  let calls = 0
  const auth = async (): Promise<string> => {
    calls++
    return signTestToken(server.secret, 'ernst', { exp: Math.floor(Date.now() / 1000) + 2 })
  }
  await using client = connectTestClient(server.url, { auth })
  await client.ready()
  await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(2), { timeout: 10_000 })
  await client.store('after-renewal', true)
  await client.synced()
  expect((await rawHttp(server.url, 'GET', '/v1/values/after-renewal', { token: server.token('ernst') })).json).toBe(true)
})

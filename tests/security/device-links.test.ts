import { MAX_LINK_CODE_SECONDS, MAX_LINK_CODES_PER_USER, type DeviceListResponse, type LinkCodeResponse } from '@cubby/protocol'
import {
  createDeviceKey, createLinkCode, linkDevice, openRawSocket, rawHttp, redeemLinkCode, signDeviceToken, startCliServer, type CliServer, type DeviceKey,
} from '@cubby/test-utils'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

const ADMIN = randomBytes(24).toString('base64url')
let server: CliServer
beforeAll(async () => {
  // Every new key and every redemption spends one of the address's new identities: room for the whole file.
  server = await startCliServer({ env: { CUBBY_ADMIN_TOKEN: ADMIN }, args: ['--identity-burst', '1000'] })
})
afterAll(async () => {
  await server?.[Symbol.asyncDispose]()
})

/** A user id of its own for each test, so that tests share one server. */
const someone = (): string => `user-${randomBytes(6).toString('hex')}`
/** A device token of `key` for `sub` (its own self-certified user unless given). */
const tokenOf = (key: DeviceKey, sub?: string): Promise<string> => signDeviceToken(key, { aud: server.url, ...(sub === undefined ? {} : { sub }) })
const codeOf = async (token: string): Promise<string> => {
  const created = await createLinkCode(server.url, token)
  expect(created.status).toBe(201)
  return (created.json as LinkCodeResponse).code
}
const devicesOf = async (token: string): Promise<DeviceListResponse['devices']> =>
  ((await rawHttp(server.url, 'GET', '/v1/devices', { token })).json as DeviceListResponse).devices

/** What a token gets over HTTP (status, reason) and over a WebSocket hello (first frame's reason or type, close code or 'open'). */
async function answersTo(token: string): Promise<unknown[]> {
  const http = await rawHttp(server.url, 'GET', '/v1/values', { token })
  await using socket = await openRawSocket(server.url)
  socket.hello(token)
  const close = await Promise.race([socket.closed, socket.next('welcome').then(() => 'open' as const)])
  const frame = socket.frames[0] as { type?: unknown; reason?: unknown } | undefined
  return [http.status, (http.json as { error?: { reason?: unknown } }).error?.reason, frame?.reason ?? frame?.type, close]
}

describe('device link codes', () => {
  it('links a new key to an app user: its tokens name that user over HTTP and WebSocket and see its data', async () => {
    const alice = someone()
    expect((await rawHttp(server.url, 'PUT', '/v1/values/plan', { token: server.token(alice), headers: { 'content-type': 'application/json' }, body: '"pro"' })).status).toBe(200)
    const phone = await createDeviceKey()
    const created = await createLinkCode(server.url, server.token(alice))
    expect(created.status).toBe(201)
    const { code, expiresAt } = created.json as LinkCodeResponse
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(expiresAt).toBeGreaterThan(Date.now() + 500_000)
    const redeemed = await redeemLinkCode(server.url, phone, code, { label: 'phone' })
    expect(redeemed.json).toEqual({ userId: alice, deviceId: phone.userId.slice('anon_key_'.length) })
    const token = await tokenOf(phone, alice)
    expect((await rawHttp(server.url, 'GET', '/v1/values/plan', { token })).json).toBe('pro')
    await using socket = await openRawSocket(server.url)
    socket.hello(token)
    expect(await socket.next('welcome')).toMatchObject({ userId: alice, head: 1 })
    expect(await socket.next('changes')).toMatchObject({ changes: [{ key: 'plan' }] })
    // lastSeen: its tokens were accepted above (written in the background).
    await vi.waitFor(async () => expect(await devicesOf(token)).toEqual([{ id: phone.userId.slice(9), label: 'phone', createdAt: expect.any(Number), lastSeen: expect.any(Number), current: true }]))
    expect((await devicesOf(server.token(alice)))[0]).toMatchObject({ current: false })
    // The key stays its own self-certified user too: a token with its own sub is another user.
    expect((await rawHttp(server.url, 'GET', '/v1/values/plan', { token: await tokenOf(phone) })).status).toBe(404)
  })

  it('refuses a replayed code, for the same key and for another', async () => {
    const code = await codeOf(server.token(someone()))
    const [first, second] = [await createDeviceKey(), await createDeviceKey()]
    expect((await redeemLinkCode(server.url, first, code)).status).toBe(200)
    for (const key of [first, second]) {
      expect((await redeemLinkCode(server.url, key, code)).json).toMatchObject({ error: { code: 'NOT_FOUND' } })
    }
  })

  it('hands a code out once to many concurrent redeemers', async () => {
    const code = await codeOf(server.token(someone()))
    const keys = await Promise.all(Array.from({ length: 6 }, () => createDeviceKey()))
    const statuses = await Promise.all(keys.map(async (k) => (await redeemLinkCode(server.url, k, code)).status))
    expect(statuses.sort()).toEqual([200, 404, 404, 404, 404, 404])
  })

  it('refuses an expired code', async () => {
    const created = await createLinkCode(server.url, server.token(someone()), { ttlSeconds: 1 })
    const { code, expiresAt } = created.json as LinkCodeResponse
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(expiresAt), { timeout: 5000, interval: 50 })
    expect((await redeemLinkCode(server.url, await createDeviceKey(), code)).json).toMatchObject({ error: { code: 'NOT_FOUND' } })
  })

  it('refuses a redemption without a proof of the new key, and keeps the code for a good one', async () => {
    const alice = someone()
    const code = await codeOf(server.token(alice))
    const key = await createDeviceKey()
    const other = await createDeviceKey()
    const noProof = await rawHttp(server.url, 'POST', '/v1/devices/links/redeem', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) })
    expect(noProof.json).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'missing' } })
    const proofs = {
      'another audience': await signDeviceToken(key, { aud: 'https://other.example' }),
      'a server-signed token': server.token(alice),
      "another key's sub": await signDeviceToken(key, { aud: server.url, sub: other.userId }),
      'an app user as sub': await signDeviceToken(key, { aud: server.url, sub: alice }),
      'expired': await signDeviceToken(key, { aud: server.url, iat: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) - 600 }),
    }
    for (const [name, proof] of Object.entries(proofs)) {
      const answer = await redeemLinkCode(server.url, key, code, { proof })
      expect([name, answer.status]).toEqual([name, 401])
    }
    expect((await redeemLinkCode(server.url, key, code)).json).toMatchObject({ userId: alice })
  })

  it('lets no linked key act for a user it was not linked to', async () => {
    const [alice, bob] = [someone(), someone()]
    const key = await createDeviceKey()
    await linkDevice(server.url, server.token(alice), key)
    expect(await answersTo(await tokenOf(key, bob))).toEqual([401, 'invalid', 'invalid', 4001])
    // Nor an unlinked key any user.
    expect(await answersTo(await tokenOf(await createDeviceKey(), alice))).toEqual([401, 'invalid', 'invalid', 4001])
  })

  it('refuses bad codes and bodies with BAD_MESSAGE', async () => {
    const key = await createDeviceKey()
    for (const code of [undefined, 42, '', 'short', 'x'.repeat(44), `${'a'.repeat(42)}!`]) {
      expect((await redeemLinkCode(server.url, key, code)).json).toMatchObject({ error: { code: 'BAD_MESSAGE' } })
    }
    for (const body of ['[', '[]', '{"ttlSeconds":0}', '{"ttlSeconds":1.5}', '{"ttlSeconds":"60"}']) {
      const res = await rawHttp(server.url, 'POST', '/v1/devices/links', { token: server.token(someone()), headers: { 'content-type': 'application/json' }, body })
      expect([body, res.json]).toMatchObject([body, { error: { code: 'BAD_MESSAGE' } }])
    }
  })

  it(`bounds a user's live codes to ${MAX_LINK_CODES_PER_USER} and their life to ${MAX_LINK_CODE_SECONDS} s`, async () => {
    const token = server.token(someone())
    for (let i = 0; i < MAX_LINK_CODES_PER_USER; i++) {
      const { json } = await createLinkCode(server.url, token, { ttlSeconds: 10 ** 9 })
      expect((json as LinkCodeResponse).expiresAt).toBeLessThanOrEqual(Date.now() + MAX_LINK_CODE_SECONDS * 1000)
    }
    const over = await createLinkCode(server.url, token)
    expect(over.status).toBe(429)
    expect(over.json).toMatchObject({ error: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } })
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0)
    // Another user is not held back by it.
    expect((await createLinkCode(server.url, server.token(someone()))).status).toBe(201)
  })
})

describe('device revocation', () => {
  it('refuses a revoked key on HTTP and WebSocket and closes its live session at once', async () => {
    const alice = someone()
    const phone = await createDeviceKey()
    const { deviceId } = await linkDevice(server.url, server.token(alice), phone)
    await using live = await openRawSocket(server.url)
    live.hello(await tokenOf(phone, alice))
    await live.next('synced')
    await using bystander = await openRawSocket(server.url)
    bystander.hello(server.token(alice))
    await bystander.next('synced')
    const revoked = await rawHttp(server.url, 'DELETE', `/v1/devices/${deviceId}`, { token: server.token(alice) })
    expect(revoked.json).toEqual({ revoked: true })
    expect(await live.next('error')).toMatchObject({ code: 'UNAUTHORIZED', reason: 'revoked' })
    expect(await live.closed).toBe(4001)
    expect(await answersTo(await tokenOf(phone, alice))).toEqual([401, 'revoked', 'revoked', 4001])
    expect(bystander.ws.readyState).toBe(bystander.ws.OPEN)
    expect((await devicesOf(server.token(alice)))[0]).toMatchObject({ id: deviceId, revokedAt: expect.any(Number) })
    // Revoked for good for that user: a new code does not bring the key back; a new key is welcome.
    const again = await redeemLinkCode(server.url, phone, await codeOf(server.token(alice)))
    expect(again.json).toMatchObject({ error: { code: 'UNAUTHORIZED' } })
    await linkDevice(server.url, server.token(alice), await createDeviceKey())
    // Unknown ids are NOT_FOUND, for the user and the admin alike.
    expect((await rawHttp(server.url, 'DELETE', `/v1/devices/${'A'.repeat(43)}`, { token: server.token(alice) })).status).toBe(404)
    expect((await rawHttp(server.url, 'DELETE', '/v1/devices/nope', { token: server.token(alice) })).status).toBe(404)
  })

  it("revokes a self-certified user's own key from a linked device, which goes on", async () => {
    const laptop = await createDeviceKey()
    const phone = await createDeviceKey()
    const user = laptop.userId
    await linkDevice(server.url, await tokenOf(laptop), phone)
    const ids = (await devicesOf(await tokenOf(phone, user))).map((d) => d.id).sort()
    expect(ids).toEqual([laptop.userId.slice(9), phone.userId.slice(9)].sort())
    await using live = await openRawSocket(server.url)
    live.hello(await tokenOf(laptop))
    await live.next('synced')
    expect((await rawHttp(server.url, 'DELETE', `/v1/devices/${laptop.userId.slice(9)}`, { token: await tokenOf(phone, user) })).status).toBe(200)
    expect(await live.closed).toBe(4001)
    expect(await answersTo(await tokenOf(laptop))).toEqual([401, 'revoked', 'revoked', 4001])
    expect(await answersTo(await tokenOf(phone, user))).toEqual([200, undefined, 'welcome', 'open'])
  })

  it('lists and revokes through the admin API, and a deletion of the user removes its devices and codes', async () => {
    const alice = someone()
    const phone = await createDeviceKey()
    const tablet = await createDeviceKey()
    const { deviceId } = await linkDevice(server.url, server.token(alice), phone, 'phone')
    await linkDevice(server.url, server.token(alice), tablet, 'tablet')
    const path = `/v1/admin/users/${encodeURIComponent(alice)}/devices`
    expect((await rawHttp(server.url, 'GET', path, { token: server.token(alice) })).status).toBe(401)
    const listed = (await rawHttp(server.url, 'GET', path, { token: ADMIN })).json as DeviceListResponse
    expect(listed.devices.map((d) => d.label).sort()).toEqual(['phone', 'tablet'])
    await using live = await openRawSocket(server.url)
    live.hello(await tokenOf(phone, alice))
    await live.next('synced')
    expect((await rawHttp(server.url, 'DELETE', `${path}/${deviceId}`, { token: ADMIN })).json).toEqual({ revoked: true })
    expect(await live.closed).toBe(4001)
    const code = await codeOf(server.token(alice))
    expect((await rawHttp(server.url, 'DELETE', `/v1/admin/users/${encodeURIComponent(alice)}`, { token: ADMIN })).status).toBe(200)
    expect((await rawHttp(server.url, 'GET', path, { token: ADMIN })).json).toEqual({ devices: [] })
    expect(await answersTo(await tokenOf(tablet, alice))).toEqual([401, 'invalid', 'invalid', 4001])
    expect((await redeemLinkCode(server.url, await createDeviceKey(), code)).status).toBe(404)
  })
})

it('counts redemptions against the per-address limit of new identities', async () => {
  await using strict = await startCliServer({ args: ['--identity-burst', '2', '--identities-per-minute', '1'] })
  const codes = await Promise.all([0, 1, 2].map(async () => ((await createLinkCode(strict.url, strict.token(someone()))).json as LinkCodeResponse).code))
  const answers = []
  for (const code of codes) answers.push((await redeemLinkCode(strict.url, await createDeviceKey(), code)).status)
  expect(answers).toEqual([200, 200, 429])
})

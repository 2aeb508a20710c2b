import { createHmac, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createDeviceKey, openRawSocket, signDeviceToken, startCliServer, type DeviceKey } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'
import { answerToHello, rawHttp } from './attack.js'

const now = (): number => Math.floor(Date.now() / 1000)
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
const partsOf = (token: string): [string, string, string] => token.split('.') as [string, string, string]

/** The first frame's error reason (or code, or type) and the close code (or 'open') a hello with `token` gets. */
async function helloAnswer(url: string, token: string): Promise<[unknown, number | 'open']> {
  await using socket = await openRawSocket(url)
  socket.hello(token)
  // A token wrongly accepted is welcomed and the socket stays open: that is an answer too, not a hang.
  const close = await Promise.race([socket.closed, socket.next('welcome').then(() => 'open' as const)])
  const frame = socket.frames[0] as { type?: unknown; code?: unknown; reason?: unknown } | undefined
  return [frame?.reason ?? frame?.code ?? frame?.type, close]
}

/** The HTTP status and reason, the WebSocket error reason and close code a token gets. */
async function answersTo(url: string, token: string): Promise<unknown[]> {
  const http = await rawHttp(url, 'GET', '/v1/values', { token })
  const body = http.json as { error?: { code?: unknown; reason?: unknown } }
  return [http.status, body.error?.reason ?? body.error?.code, ...(await helloAnswer(url, token))]
}

/** Every way a device token can be wrong, each built from a real key pair. */
async function badTokens(key: DeviceKey, victim: DeviceKey, aud: string): Promise<Record<string, string>> {
  const good = partsOf(await signDeviceToken(key, { aud }))
  const payload = JSON.parse(Buffer.from(good[1], 'base64url').toString()) as Record<string, unknown>
  const p384 = await createDeviceKey('P-384')
  return {
    'alg none': `${b64({ alg: 'none', typ: 'JWT', jwk: key.publicJwk })}.${good[1]}.`,
    'alg none, signature kept': `${b64({ alg: 'none', typ: 'JWT', jwk: key.publicJwk })}.${good[1]}.${good[2]}`,
    // Signed with the server's own kind of algorithm, keyed by the public key: must never fall back to HMAC.
    'HS256 with a jwk': (() => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', jwk: key.publicJwk })}.${good[1]}`
      return `${input}.${createHmac('sha256', key.publicJwk.x).update(input).digest('base64url')}`
    })(),
    'P-384 key, ES384': await signDeviceToken(p384, { aud, sub: p384.userId }),
    'P-384 key named ES256': await signDeviceToken(p384, { aud, sub: p384.userId, header: { alg: 'ES256' } }),
    'P-256 key named ES384': await signDeviceToken(key, { aud, header: { alg: 'ES384' } }),
    'jwk with a private member': await signDeviceToken(key, { aud, header: { jwk: { ...key.publicJwk, d: key.publicJwk.x } } }),
    'jwk not an object': await signDeviceToken(key, { aud, header: { jwk: 'key' } }),
    'jwk of another curve name': await signDeviceToken(key, { aud, header: { jwk: { ...key.publicJwk, crv: 'secp256k1' } } }),
    'thumbprint is not the sub': await signDeviceToken(key, { aud, sub: `anon_key_${randomBytes(32).toString('base64url')}` }),
    'sub without the prefix': await signDeviceToken(key, { aud, sub: key.userId.slice('anon_key_'.length) }),
    "another user's sub with one's own key": await signDeviceToken(key, { aud, sub: victim.userId }),
    "another user's jwk and sub, one's own signature": await signDeviceToken(key, { aud, sub: victim.userId, header: { jwk: victim.publicJwk } }),
    'payload changed after signing': `${good[0]}.${b64({ ...payload, sub: victim.userId })}.${good[2]}`,
    'signature stripped': `${good[0]}.${good[1]}.`,
    'issued in the future': await signDeviceToken(key, { aud, iat: now() + 600 }),
    'lives longer than ten minutes': await signDeviceToken(key, { aud, iat: now() - 10, exp: now() + 3600 }),
    'no exp': await signDeviceToken(key, { aud, claims: { exp: undefined } }),
    'no iat': await signDeviceToken(key, { aud, claims: { iat: undefined } }),
    'another audience': await signDeviceToken(key, { aud: 'https://other-deployment.example' }),
    'no audience': await signDeviceToken(key, { aud, claims: { aud: undefined } }),
    'this and another audience': await signDeviceToken(key, { aud: [aud, 'https://other-deployment.example'] }),
    'the audience with a path': await signDeviceToken(key, { aud: `${aud}/v1` }),
  }
}

describe('self-certified device tokens', () => {
  it('accepts a device token over HTTP and WebSocket, as the user its key names', async () => {
    await using server = await startCliServer()
    const key = await createDeviceKey()
    const token = await signDeviceToken(key, { aud: server.url })
    const put = await rawHttp(server.url, 'PUT', '/v1/values/a', { token, headers: { 'content-type': 'application/json' }, body: '1' })
    expect(put.status).toBe(200)
    await using socket = await openRawSocket(server.url)
    socket.hello(await signDeviceToken(key, { aud: server.url }))
    expect(await socket.next('welcome')).toMatchObject({ userId: key.userId, head: 1 })
    expect(key.userId).toMatch(/^anon_key_[A-Za-z0-9_-]{43}$/)
  })

  it('refuses every malformed, forged, misdirected or overlong token as invalid, over HTTP and WebSocket', async () => {
    await using server = await startCliServer()
    const [key, victim] = await Promise.all([createDeviceKey(), createDeviceKey()])
    // The victim exists, so that "refused" is not merely "unknown user".
    const victimToken = await signDeviceToken(victim, { aud: server.url })
    expect((await rawHttp(server.url, 'PUT', '/v1/values/v', { token: victimToken, headers: { 'content-type': 'application/json' }, body: '1' })).status).toBe(200)
    for (const [name, token] of Object.entries(await badTokens(key, victim, server.url))) {
      expect.soft(await answersTo(server.url, token), name).toEqual([401, 'invalid', 'invalid', 4001])
    }
    expect((await rawHttp(server.url, 'GET', '/v1/values/v', { token: victimToken })).json).toBe(1)
  })

  it('says expired of a correctly signed token past its exp, and revoked of one issued before its user was deleted', async () => {
    await using server = await startCliServer()
    const key = await createDeviceKey()
    const expired = await signDeviceToken(key, { aud: server.url, iat: now() - 500, exp: now() - 120 })
    expect(await answersTo(server.url, expired)).toEqual([401, 'expired', 'expired', 4001])
    const before = await signDeviceToken(key, { aud: server.url })
    expect((await rawHttp(server.url, 'PUT', '/v1/values/a', { token: before, headers: { 'content-type': 'application/json' }, body: '1' })).status).toBe(200)
    const admin = (await readFile(join(server.dataDir, 'admin-token'), 'utf8')).trim()
    const deleted = await rawHttp(server.url, 'DELETE', `/v1/admin/users/${key.userId}`, { token: admin })
    expect(deleted.json).toEqual({ deleted: true })
    expect(await answersTo(server.url, before)).toEqual([401, 'revoked', 'revoked', 4001])
  })

  it('takes the audience from --public-origin when given, and from the Host header otherwise', async () => {
    await using server = await startCliServer({ args: ['--public-origin', 'https://sync.example.com, https://other.example:8443'] })
    const key = await createDeviceKey()
    for (const aud of ['https://sync.example.com', 'https://other.example:8443']) {
      expect((await rawHttp(server.url, 'GET', '/v1/values', { token: await signDeviceToken(key, { aud }) })).status, aud).toBe(200)
    }
    // The origin the client connects to is not enough once the deployment names its public origins.
    expect(await answersTo(server.url, await signDeviceToken(key, { aud: server.url }))).toEqual([401, 'invalid', 'invalid', 4001])
    // Without --public-origin, a token for one Host is refused on a request with another.
    await using plain = await startCliServer()
    const token = await signDeviceToken(key, { aud: 'http://sync.example.com' })
    expect((await rawHttp(plain.url, 'GET', '/v1/values', { token, headers: { host: 'sync.example.com' } })).status).toBe(200)
    expect((await rawHttp(plain.url, 'GET', '/v1/values', { token, headers: { host: 'other.example.com' } })).status).toBe(401)
  })

  it('refuses device tokens and issues no identities with --no-anonymous, or CUBBY_ANONYMOUS=0', async () => {
    for (const options of [{ args: ['--no-anonymous'] }, { env: { CUBBY_ANONYMOUS: '0' } }]) {
      await using server = await startCliServer(options)
      const key = await createDeviceKey()
      expect(await answersTo(server.url, await signDeviceToken(key, { aud: server.url }))).toEqual([401, 'invalid', 'invalid', 4001])
      expect((await rawHttp(server.url, 'POST', '/v1/identities')).status).toBe(404)
      // The app's own users are unaffected.
      expect((await rawHttp(server.url, 'GET', '/v1/values', { token: server.token('alice') })).status).toBe(200)
    }
  })

  it('counts new device keys against the per-address limit of POST /v1/identities, and keys already seen not again', async () => {
    await using server = await startCliServer({ args: ['--identity-burst', '2', '--identities-per-minute', '1'] })
    const [first, second, third] = await Promise.all([createDeviceKey(), createDeviceKey(), createDeviceKey()])
    expect((await rawHttp(server.url, 'POST', '/v1/identities')).status).toBe(201)
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token: await signDeviceToken(first, { aud: server.url }) })).status).toBe(200)
    // The address has spent its two new identities: a new key is refused over both transports ...
    const overHttp = await rawHttp(server.url, 'GET', '/v1/values', { token: await signDeviceToken(second, { aud: server.url }) })
    expect(overHttp.status).toBe(429)
    expect(overHttp.json).toMatchObject({ error: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } })
    expect(await answerToHello(server.url, { type: 'hello', v: 1, token: await signDeviceToken(third, { aud: server.url }), cursor: 0 }))
      .toEqual({ frames: [{ type: 'error', code: 'RATE_LIMITED', message: expect.any(String), retryAfter: expect.any(Number) }], close: 4029 })
    // ... and so is another POST /v1/identities, while the key already admitted keeps working.
    expect((await rawHttp(server.url, 'POST', '/v1/identities')).status).toBe(429)
    await using socket = await openRawSocket(server.url)
    socket.hello(await signDeviceToken(first, { aud: server.url }))
    expect(await socket.next('welcome')).toMatchObject({ userId: first.userId })
  })
})

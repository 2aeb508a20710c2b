import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createDeviceKey, openRawSocket, signDeviceToken, signTestToken, startCliServer } from '@cubby/test-utils'
import { SYNC_PATH } from '@cubby/protocol'
import { describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { rawHttp } from './attack.js'

const claimsOf = (token: string): { sub?: string; iat?: number; exp?: number } =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub?: string; iat?: number; exp?: number }
const json = { 'content-type': 'application/json' }

describe('expiring server-issued tokens', () => {
  it('gives POST /v1/identities tokens the configured exp, and refuses them as expired after it, over HTTP and WebSocket', async () => {
    await using server = await startCliServer({ args: ['--anonymous-token-ttl', '1'] })
    const { userId, token } = (await rawHttp(server.url, 'POST', '/v1/identities')).json as { userId: string; token: string }
    const { iat, exp } = claimsOf(token)
    expect(exp! - iat!).toBe(1)
    // The app's own tokens are left alone by the anonymous TTL.
    expect(claimsOf(server.token('alice'))).not.toHaveProperty('exp')
    await vi.waitFor(async () => {
      const answer = await rawHttp(server.url, 'GET', '/v1/values', { token })
      expect(answer.json).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'expired' } })
    }, { timeout: 15_000, interval: 250 })
    await using socket = await openRawSocket(server.url)
    socket.hello(token)
    expect(await socket.closed).toBe(4001)
    expect(socket.frames[0]).toMatchObject({ code: 'UNAUTHORIZED', reason: 'expired' })
    expect(userId).toMatch(/^anon_/)
  })

  it('renews a still-valid token at POST /v1/tokens/refresh, for the same user and data', async () => {
    await using server = await startCliServer({ args: ['--anonymous-token-ttl', '600', '--token-ttl', '300'] })
    const { userId, token } = (await rawHttp(server.url, 'POST', '/v1/identities')).json as { userId: string; token: string }
    expect((await rawHttp(server.url, 'PUT', '/v1/values/a', { token, headers: json, body: '1' })).status).toBe(200)
    const refreshed = await rawHttp(server.url, 'POST', '/v1/tokens/refresh', { token })
    expect(refreshed.status).toBe(200)
    const fresh = refreshed.json as { userId: string; token: string }
    expect(fresh.userId).toBe(userId)
    expect(claimsOf(fresh.token)).toMatchObject({ sub: userId, exp: claimsOf(fresh.token).iat! + 600 })
    expect((await rawHttp(server.url, 'GET', '/v1/values/a', { token: fresh.token })).json).toBe(1)
    // An app's user gets the app TTL.
    const app = (await rawHttp(server.url, 'POST', '/v1/tokens/refresh', { token: server.token('alice') })).json as { token: string }
    expect(claimsOf(app.token).exp! - claimsOf(app.token).iat!).toBe(300)
  })

  it('refuses to refresh an expired, forged, revoked, missing or device token', async () => {
    await using server = await startCliServer()
    const now = Math.floor(Date.now() / 1000)
    const refresh = async (token?: string): Promise<unknown> =>
      (await rawHttp(server.url, 'POST', '/v1/tokens/refresh', token === undefined ? {} : { token })).json
    expect(await refresh(signTestToken(server.secret, 'bob', { exp: now - 5 }))).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'expired' } })
    expect(await refresh(signTestToken('not-the-secret', 'bob'))).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'invalid' } })
    expect(await refresh()).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'missing' } })
    const key = await createDeviceKey()
    expect(await refresh(await signDeviceToken(key, { aud: server.url }))).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'invalid' } })
    const gone = server.token('gone')
    expect((await rawHttp(server.url, 'PUT', '/v1/values/a', { token: gone, headers: json, body: '1' })).status).toBe(200)
    const admin = (await readFile(join(server.dataDir, 'admin-token'), 'utf8')).trim()
    expect((await rawHttp(server.url, 'DELETE', '/v1/admin/users/gone', { token: admin })).json).toEqual({ deleted: true })
    expect(await refresh(gone)).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'revoked' } })
  })

  it('keeps accepting tokens issued without exp (before a TTL was set), and refreshes them into expiring ones', async () => {
    await using server = await startCliServer({ args: ['--anonymous-token-ttl', '600'] })
    const old = signTestToken(server.secret, 'anon_AAAAAAAAAAAAAAAAAAAAAA')
    expect(claimsOf(old)).not.toHaveProperty('exp')
    expect((await rawHttp(server.url, 'PUT', '/v1/values/a', { token: old, headers: json, body: '1' })).status).toBe(200)
    await using socket = await openRawSocket(server.url)
    socket.hello(old)
    expect(await socket.next('welcome')).toMatchObject({ userId: 'anon_AAAAAAAAAAAAAAAAAAAAAA', head: 1 })
    const { token } = (await rawHttp(server.url, 'POST', '/v1/tokens/refresh', { token: old })).json as { token: string }
    expect(claimsOf(token).exp! - claimsOf(token).iat!).toBe(600)
  })

  it('never takes a token from the URL, over HTTP or on the sync socket', async () => {
    await using server = await startCliServer()
    const token = server.token('alice')
    for (const path of [`/v1/values?token=${token}`, `/v1/values?access_token=${token}`, `/v1/tokens/refresh?token=${token}`]) {
      const method = path.startsWith('/v1/tokens') ? 'POST' : 'GET'
      expect((await rawHttp(server.url, method, path)).json, path).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'missing' } })
    }
    // The sync socket authenticates by its hello alone: a valid token in the URL does not make a bad hello pass.
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}${SYNC_PATH}?token=${token}`)
    const frames: unknown[] = []
    ws.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString())))
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ws.send(JSON.stringify({ type: 'hello', v: 1, token: 'not-a-token', cursor: 0 }))
    expect(await new Promise((resolve) => ws.once('close', resolve))).toBe(4001)
    expect(frames).toEqual([expect.objectContaining({ code: 'UNAUTHORIZED', reason: 'invalid' })])
  })
})

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { signTestToken, startCliServer } from '@cubby/test-utils'
import { expect, it } from 'vitest'
import { answerToHello, forgedTokens, rawHttp, seed } from './attack.js'

it('says why a token is refused, over HTTP and WebSocket, and says revoked or expired only of correctly signed ones', async () => {
  await using server = await startCliServer()
  const admin = (await readFile(join(server.dataDir, 'admin-token'), 'utf8')).trim()
  const now = Math.floor(Date.now() / 1000)
  const before = signTestToken(server.secret, 'gone')
  await seed(server, 'gone', { k: 1 })
  expect((await rawHttp(server.url, 'DELETE', '/v1/admin/users/gone', { token: admin })).json).toEqual({ deleted: true })
  const reasonOf = async (token: string): Promise<unknown[]> => {
    const http = await rawHttp(server.url, 'GET', '/v1/values', { token })
    const ws = await answerToHello(server.url, { type: 'hello', v: 1, token, cursor: 0 })
    return [http.status, (http.json as { error?: { reason?: unknown } }).error?.reason, (ws.frames[0] as { reason?: unknown }).reason, ws.close]
  }
  expect(await reasonOf(before)).toEqual([401, 'revoked', 'revoked', 4001])
  expect(await reasonOf(signTestToken(server.secret, 'alive', { exp: now - 10 }))).toEqual([401, 'expired', 'expired', 4001])
  expect(await reasonOf(signTestToken('not-the-secret', 'alive'))).toEqual([401, 'invalid', 'invalid', 4001])
  // Forged tokens for the deleted user and for one that never existed get the same answer: nothing leaks.
  const forGone = forgedTokens(server, 'gone')
  const forNobody = forgedTokens(server, 'never-existed')
  for (const name of ['wrong secret', 'alg none', 'tampered sub', 'signature stripped', 'not a jwt']) {
    expect(await reasonOf(forGone[name]!), name).toEqual([401, 'invalid', 'invalid', 4001])
    expect(await reasonOf(forNobody[name]!), name).toEqual([401, 'invalid', 'invalid', 4001])
  }
  expect((await rawHttp(server.url, 'GET', '/v1/values')).json).toMatchObject({ error: { code: 'UNAUTHORIZED', reason: 'missing' } })
})

it('requires the configured issuer and audience, over WebSocket and HTTP', async () => {
  await using server = await startCliServer({ args: ['--token-issuer', 'https://login.example', '--token-audience', 'cubby'] })
  const claims = { iss: 'https://login.example', aud: 'cubby' }
  const refused = {
    'no issuer or audience': signTestToken(server.secret, 'bob'),
    'wrong issuer': signTestToken(server.secret, 'bob', { ...claims, iss: 'https://evil.example' }),
    'wrong audience': signTestToken(server.secret, 'bob', { ...claims, aud: 'another-app' }),
    'issuer only': signTestToken(server.secret, 'bob', { iss: claims.iss }),
    'audience only': signTestToken(server.secret, 'bob', { aud: claims.aud }),
  }
  for (const [name, token] of Object.entries(refused)) {
    expect(await answerToHello(server.url, { type: 'hello', v: 1, token, cursor: 0 }), name)
      .toEqual({ frames: [{ type: 'error', code: 'UNAUTHORIZED', message: expect.any(String), reason: 'invalid' }], close: 4001 })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token })).status, name).toBe(401)
  }
  const good = signTestToken(server.secret, 'bob', claims)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: good })).json).toEqual({ keys: [], next: null })
  // Identities the server issues itself carry both claims.
  const { token } = (await rawHttp(server.url, 'POST', '/v1/identities')).json as { token: string }
  expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: claims.iss, aud: claims.aud })
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token })).status).toBe(200)
})

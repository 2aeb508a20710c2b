import { signTestToken, startTestServer } from '@cubby/test-utils'
import { expect, it } from 'vitest'
import { answerToHello, rawHttp } from './attack.js'

it('requires the configured issuer and audience, over WebSocket and HTTP', async () => {
  await using server = await startTestServer({ args: ['--token-issuer', 'https://login.example', '--token-audience', 'cubby'] })
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
      .toEqual({ frames: [{ type: 'error', code: 'UNAUTHORIZED', message: expect.any(String) }], close: 4001 })
    expect((await rawHttp(server.url, 'GET', '/v1/values', { token })).status, name).toBe(401)
  }
  const good = signTestToken(server.secret, 'bob', claims)
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token: good })).json).toEqual({ keys: [], next: null })
  // Identities the server issues itself carry both claims.
  const { token } = (await rawHttp(server.url, 'POST', '/v1/identities')).json as { token: string }
  expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: claims.iss, aud: claims.aud })
  expect((await rawHttp(server.url, 'GET', '/v1/values', { token })).status).toBe(200)
})

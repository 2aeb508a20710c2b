import { createDeviceKey, mergeAccount, signDeviceToken, signTestToken, startCliServer, type CliServer, type MergeAccountOptions } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'

const now = (): number => Math.floor(Date.now() / 1000)

/** A new server-issued anonymous identity holding one key. */
async function anonWithData(server: CliServer): Promise<{ userId: string; token: string }> {
  const identity = await (await fetch(`${server.url}/v1/identities`, { method: 'POST' })).json() as { userId: string; token: string }
  const put = await fetch(`${server.url}/v1/values/secret`, {
    method: 'PUT', headers: { authorization: `Bearer ${identity.token}`, 'content-type': 'application/json' }, body: '"anon data"',
  })
  expect(put.status).toBe(200)
  return identity
}

async function keysOf(server: CliServer, token: string): Promise<string[]> {
  const res = await fetch(`${server.url}/v1/values`, { headers: { authorization: `Bearer ${token}` } })
  return ((await res.json()) as { keys: string[] }).keys
}

/** Status, code, reason and credential of a merge answer. */
async function refusal(server: CliServer, options: MergeAccountOptions): Promise<unknown[]> {
  const { status, body } = await mergeAccount(server.url, options)
  return 'error' in body ? [status, body.error.code, body.error.reason, body.error.credential] : [status, 'merged']
}

describe('account merge: who may merge what', () => {
  it('refuses every merge not authorised by both identities, and changes nothing', async () => {
    await using server = await startCliServer()
    const anon = await anonWithData(server)
    const key = await createDeviceKey()
    const alice = server.token('alice')
    const cases: Array<[string, MergeAccountOptions, unknown[]]> = [
      ['no proof of the anonymous key', { accountToken: alice }, [401, 'UNAUTHORIZED', 'missing', 'anonymous']],
      ['an empty proof', { accountToken: alice, proof: '' }, [401, 'UNAUTHORIZED', 'missing', 'anonymous']],
      ['a forged proof', { accountToken: alice, proof: signTestToken('not the secret', anon.userId) }, [401, 'UNAUTHORIZED', 'invalid', 'anonymous']],
      ['a proof for another audience', { accountToken: alice, proof: await signDeviceToken(key, { aud: 'https://other.example' }) }, [401, 'UNAUTHORIZED', 'invalid', 'anonymous']],
      ['an expired device proof', { accountToken: alice, proof: await signDeviceToken(key, { aud: server.url, iat: now() - 600, exp: now() - 300 }) }, [401, 'UNAUTHORIZED', 'expired', 'anonymous']],
      ['an expired server-issued proof', { accountToken: alice, proof: signTestToken(server.secret, anon.userId, { exp: now() - 60 }) }, [401, 'UNAUTHORIZED', 'expired', 'anonymous']],
      ['no account token', { accountToken: undefined, proof: anon.token }, [401, 'UNAUTHORIZED', 'missing', 'account']],
      ['an account token not signed by the server', { accountToken: signTestToken('guess', 'alice'), proof: anon.token }, [401, 'UNAUTHORIZED', 'invalid', 'account']],
      ['an expired account token', { accountToken: signTestToken(server.secret, 'alice', { exp: now() - 60 }), proof: anon.token }, [401, 'UNAUTHORIZED', 'expired', 'account']],
      // Someone who is not alice cannot merge into alice's account, whatever the body says.
      ['a token of another account than the one named', { accountToken: server.token('mallory'), proof: anon.token, account: 'alice' }, [403, 'FORBIDDEN', 'account-mismatch', undefined]],
      ['an account merged into an account', { accountToken: alice, proof: server.token('bob') }, [403, 'FORBIDDEN', 'not-anonymous', undefined]],
      ['an anonymous user merged into itself', { accountToken: anon.token, proof: anon.token }, [403, 'FORBIDDEN', 'not-an-account', undefined]],
      ['an anonymous token as the account', { accountToken: await signDeviceToken(key, { aud: server.url }), proof: anon.token }, [403, 'FORBIDDEN', 'not-an-account', undefined]],
      ['a body that is not JSON', { accountToken: alice, rawBody: 'proof=x' }, [400, 'BAD_MESSAGE', undefined, undefined]],
      ['an unknown policy', { accountToken: alice, proof: anon.token, prefer: 'newest' as never }, [400, 'BAD_MESSAGE', undefined, undefined]],
    ]
    for (const [name, options, expected] of cases) expect([name, ...await refusal(server, options)]).toEqual([name, ...expected])
    expect(await keysOf(server, alice)).toEqual([])
    expect(await keysOf(server, server.token('mallory'))).toEqual([])
    expect(await keysOf(server, anon.token)).toEqual(['secret'])
    // The process is still up and the same proof, with a valid account token, still merges.
    expect(await refusal(server, { accountToken: alice, proof: anon.token, account: 'alice' })).toEqual([200, 'merged'])
  })

  it('refuses a proof once its anonymous user was merged: a replay moves nothing again', async () => {
    await using server = await startCliServer()
    const anon = await anonWithData(server)
    expect(await refusal(server, { accountToken: server.token('alice'), proof: anon.token })).toEqual([200, 'merged'])
    expect(await refusal(server, { accountToken: server.token('mallory'), proof: anon.token })).toEqual([401, 'UNAUTHORIZED', 'revoked', 'anonymous'])
    expect(await keysOf(server, server.token('mallory'))).toEqual([])
  })

  it('refuses a merge that would take the account past its quota, atomically', async () => {
    await using server = await startCliServer({ args: ['--max-user-keys', '2'] })
    const anon = await anonWithData(server)
    const put = (key: string): Promise<Response> => fetch(`${server.url}/v1/values/${key}`, {
      method: 'PUT', headers: { authorization: `Bearer ${server.token('alice')}`, 'content-type': 'application/json' }, body: '1',
    })
    for (const k of ['a', 'b']) expect((await put(k)).status).toBe(200)
    expect(await refusal(server, { accountToken: server.token('alice'), proof: anon.token })).toEqual([413, 'QUOTA_EXCEEDED', undefined, undefined])
    expect(await keysOf(server, server.token('alice'))).toEqual(['a', 'b'])
    // The anonymous user is whole and its token still works.
    expect(await keysOf(server, anon.token)).toEqual(['secret'])
  })
})

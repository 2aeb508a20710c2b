import { CUBBY_VALUE_CONTENT_TYPE, decodeValue } from '@cubby/protocol'
import { connectTestClient, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

describe('HTTP API', () => {
  it('sees what WebSocket clients store, with types kept, and clients see what HTTP stores, live', async () => {
    await using server = await startCliServer()
    const token = server.token('olga')
    const headers = { authorization: `Bearer ${token}` }
    await using client = connectTestClient(server.url, { auth: token })
    await client.ready()

    await client.store('plain', { a: [1, 'two', null], b: true })
    await client.store('typed', { at: new Date(5), tags: new Set(['x']) })
    await client.store('dir/with/slash', 'slashed')
    await client.synced()

    const plain = await fetch(`${server.url}/v1/values/plain`, { headers })
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await plain.json()).toEqual({ a: [1, 'two', null], b: true })
    const typed = await fetch(`${server.url}/v1/values/typed`, { headers })
    expect(typed.headers.get('content-type')).toContain(CUBBY_VALUE_CONTENT_TYPE)
    expect(decodeValue(`~${await typed.text()}`)).toEqual({ at: new Date(5), tags: new Set(['x']) })
    const slashed = await fetch(`${server.url}/v1/values/${encodeURIComponent('dir/with/slash')}`, { headers })
    expect(await slashed.json()).toBe('slashed')

    const put = await fetch(`${server.url}/v1/values/${encodeURIComponent('from http')}`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'cron job' }),
    })
    expect(put.status).toBe(200)
    await vi.waitFor(async () => expect(await client.get('from http')).toEqual({ source: 'cron job' }))

    const del = await fetch(`${server.url}/v1/values/plain`, { method: 'DELETE', headers })
    expect(del.status).toBe(200)
    await vi.waitFor(async () => expect(await client.get('plain')).toBeUndefined())
    expect((await fetch(`${server.url}/v1/values/plain`, { headers })).status).toBe(404)

    await fetch(`${server.url}/v1/clear`, { method: 'POST', headers })
    await vi.waitFor(async () => expect(await client.list()).toEqual([]))
  })

  it('refuses the empty key on every verb and never takes it, or a bare DELETE, for clear', async () => {
    await using server = await startCliServer()
    const token = server.token('quinn')
    const auth = { authorization: `Bearer ${token}` }
    await fetch(`${server.url}/v1/values/kept`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '1' })
    // What an HTTP client sends for the key '': the listing's path with a trailing slash.
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(`${server.url}/v1/values/${encodeURIComponent('')}`, { method, headers: { ...auth, 'content-type': 'application/json' }, ...(method === 'PUT' && { body: '2' }) })
      expect([method, res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([method, 400, 'INVALID_KEY'])
    }
    const bare = await fetch(`${server.url}/v1/values`, { method: 'DELETE', headers: auth })
    const refusal = (await bare.json()) as { error: { code: string; message: string } }
    expect([bare.status, refusal.error.code]).toEqual([400, 'BAD_MESSAGE'])
    expect(refusal.error.message).toContain('POST /v1/clear')
    expect(await (await fetch(`${server.url}/v1/values`, { headers: auth })).json()).toEqual({ keys: ['kept'], next: null })
    const cleared = await fetch(`${server.url}/v1/clear`, { method: 'POST', headers: auth })
    expect(cleared.status).toBe(200)
    expect(await (await fetch(`${server.url}/v1/values`, { headers: auth })).json()).toEqual({ keys: [], next: null })
  })

  it('answers a wrong path under /v1 with NOT_FOUND naming it, before asking for a token', async () => {
    await using server = await startCliServer()
    for (const [path, named] of [['/v1/v1/values/k', '/v1/v1/values/k'], ['/v1/nothing?x=1', '/v1/nothing'], ['/v1/sync', '/v1/sync'], ['/v1/values/a/b', '/v1/values/a/b']]) {
      const res = await fetch(`${server.url}${path!}`)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect([path, res.status, body.error.code]).toEqual([path, 404, 'NOT_FOUND'])
      expect(body.error.message).toContain(named)
    }
    const doubled = (await (await fetch(`${server.url}/v1/v1/values`)).json()) as { error: { message: string } }
    expect(doubled.error.message).toMatch(/base URL/)
  })

  it('answers bad requests with typed errors', async () => {
    await using server = await startCliServer()
    const headers = { authorization: `Bearer ${server.token('pia')}` }
    const noAuth = await fetch(`${server.url}/v1/values`)
    expect(noAuth.status).toBe(401)
    expect(await noAuth.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String), reason: 'missing' } })
    const badJson = await fetch(`${server.url}/v1/values/k`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: '{' })
    expect(badJson.status).toBe(400)
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe('BAD_MESSAGE')
    // `undefined` itself is no value, as a JSON body cannot say it but the typed encoding can.
    const undefinedValue = await fetch(`${server.url}/v1/values/k`, { method: 'PUT', headers: { ...headers, 'content-type': CUBBY_VALUE_CONTENT_TYPE }, body: '-1' })
    expect(undefinedValue.status).toBe(400)
    expect(((await undefinedValue.json()) as { error: { code: string } }).error.code).toBe('INVALID_VALUE')
    expect((await fetch(`${server.url}/v1/values/k`, { headers })).status).toBe(404)
    const missing = await fetch(`${server.url}/v1/values/nothing-here`, { headers })
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
  })

  it('issues anonymous identities that a client keeps across reloads', async () => {
    await using server = await startCliServer()
    const name = 'anon-browser'
    let userId: string | undefined
    {
      await using first = connectTestClient(server.url, { name })
      await first.ready()
      await first.store('mine', 1)
      await first.synced()
      userId = first.userId
      expect(userId).toMatch(/^anon_/)
    }
    await using again = connectTestClient(server.url, { name })
    await again.ready()
    expect(again.userId).toBe(userId)
    expect(await again.get('mine')).toBe(1)
  })
})

import { CUBBY_VALUE_CONTENT_TYPE, encodeValue } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import { rawHttp as httpRequest, startTestServer } from '@cubby/test-utils'

const JSON_TYPE = { 'content-type': 'application/json' }
const TYPED = { 'content-type': CUBBY_VALUE_CONTENT_TYPE }

describe('HTTP API', () => {
  it('answers the health check without a token', async () => {
    await using server = await startTestServer()
    const res = await httpRequest(server.url, 'GET', '/healthz')
    expect([res.status, res.json]).toEqual([200, { ok: true }])
  })

  it('issues anonymous identities whose tokens work', async () => {
    await using server = await startTestServer()
    const res = await httpRequest(server.url, 'POST', '/v1/identities')
    expect(res.status).toBe(201)
    const { userId, token } = res.json as { userId: string; token: string }
    expect(userId).toMatch(/^anon_[A-Za-z0-9_-]{22}$/)
    await httpRequest(server.url, 'PUT', '/v1/values/k', { token, headers: JSON_TYPE, body: '1' })
    expect(await server.cubby.get(userId, 'k')).toBe(1)
  })

  it('answers 401 with WWW-Authenticate without a valid token', async () => {
    await using server = await startTestServer()
    for (const [token, reason] of [[undefined, 'missing'], ['nope', 'invalid']] as const) {
      const res = await httpRequest(server.url, 'GET', '/v1/values', token === undefined ? {} : { token })
      expect([res.status, res.headers['www-authenticate'], res.json]).toEqual([
        401, 'Bearer', { error: { code: 'UNAUTHORIZED', message: expect.any(String), reason } },
      ])
    }
  })

  it('stores, reads and deletes JSON values', async () => {
    await using server = await startTestServer()
    const token = server.token('alice')
    const put = await httpRequest(server.url, 'PUT', '/v1/values/prefs', { token, headers: JSON_TYPE, body: '{"theme": "dark"}' })
    expect([put.status, put.json]).toEqual([200, { rev: 1 }])
    const get = await httpRequest(server.url, 'GET', '/v1/values/prefs', { token })
    expect([get.status, get.text, get.headers['content-type'], get.headers['x-cubby-rev']]).toEqual([
      200, '{"theme":"dark"}', 'application/json; charset=utf-8', '1',
    ])
    const del = await httpRequest(server.url, 'DELETE', '/v1/values/prefs', { token })
    expect([del.status, del.json]).toEqual([200, { rev: 2 }])
    const gone = await httpRequest(server.url, 'GET', '/v1/values/prefs', { token })
    expect([gone.status, gone.json]).toEqual([404, { error: { code: 'NOT_FOUND', message: expect.any(String) } }])
  })

  it('stores and serves typed values in the Cubby content type', async () => {
    await using server = await startTestServer()
    const token = server.token('alice')
    await server.cubby.store('alice', 'when', new Date(0))
    const get = await httpRequest(server.url, 'GET', '/v1/values/when', { token })
    expect(get.headers['content-type']).toBe(`${CUBBY_VALUE_CONTENT_TYPE}; charset=utf-8`)
    expect(`~${get.text}`).toBe(encodeValue(new Date(0)))
    const put = await httpRequest(server.url, 'PUT', '/v1/values/copy', { token, headers: TYPED, body: get.text })
    expect(put.status).toBe(200)
    expect(await server.cubby.get('alice', 'copy')).toEqual(new Date(0))
    const bad = await httpRequest(server.url, 'PUT', '/v1/values/copy', { token, headers: TYPED, body: '["Nope"' })
    expect([bad.status, (bad.json as { error: { code: string } }).error.code]).toEqual([400, 'INVALID_VALUE'])
  })

  it('keeps URL-encoded slashes, percent signs and dots in keys', async () => {
    await using server = await startTestServer()
    const token = server.token('alice')
    const keys = ['a/b', '100%', '..', '.', 'a b', 'ü/€', '?#']
    for (const key of keys) {
      const res = await httpRequest(server.url, 'PUT', `/v1/values/${encodeURIComponent(key).replace(/\./g, '%2E')}`, { token, headers: JSON_TYPE, body: JSON.stringify(key) })
      expect(res.status).toBe(200)
    }
    expect((await server.cubby.list('alice')).sort()).toEqual([...keys].sort())
    const dots = await httpRequest(server.url, 'GET', '/v1/values/%2E%2E', { token })
    expect(dots.json).toBe('..')
    const slash = await httpRequest(server.url, 'GET', '/v1/values/a%2Fb', { token })
    expect(slash.json).toBe('a/b')
  })

  it('rejects other content types, bad JSON, bad keys and big bodies', async () => {
    await using server = await startTestServer({ limits: { maxMessageBytes: 1000, maxValueBytes: 100, maxKeyBytes: 10 } })
    const token = server.token('alice')
    const codeOf = async (method: string, path: string, headers: Record<string, string>, body?: string): Promise<[number, string]> => {
      const res = await httpRequest(server.url, method, path, { token, headers, ...(body === undefined ? {} : { body }) })
      return [res.status, (res.json as { error: { code: string } }).error.code]
    }
    expect(await codeOf('PUT', '/v1/values/k', { 'content-type': 'text/plain' }, '1')).toEqual([400, 'BAD_MESSAGE'])
    expect(await codeOf('PUT', '/v1/values/k', JSON_TYPE, '{oops')).toEqual([400, 'BAD_MESSAGE'])
    expect(await codeOf('PUT', '/v1/values/k', JSON_TYPE, JSON.stringify('x'.repeat(200)))).toEqual([413, 'VALUE_TOO_LARGE'])
    expect(await codeOf('PUT', '/v1/values/k', JSON_TYPE, JSON.stringify('x'.repeat(2000)))).toEqual([413, 'MESSAGE_TOO_LARGE'])
    expect(await codeOf('PUT', `/v1/values/${'k'.repeat(11)}`, JSON_TYPE, '1')).toEqual([400, 'INVALID_KEY'])
    expect(await codeOf('GET', '/v1/values/%E0%A4%A', {})).toEqual([400, 'BAD_MESSAGE'])
    expect(await codeOf('GET', '/v1/values?limit=0', {})).toEqual([400, 'BAD_MESSAGE'])
    expect(await codeOf('GET', '/v1/nothing', {})).toEqual([404, 'NOT_FOUND'])
  })
})

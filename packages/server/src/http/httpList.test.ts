import { CUBBY_VALUE_CONTENT_TYPE } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import { connectUser, rawHttp as httpRequest, startTestServer } from '@cubby/test-utils'

describe('HTTP listing and clearing', () => {
  it('pages through keys with prefix, after, limit and next', async () => {
    await using server = await startTestServer()
    const token = server.token('alice')
    for (const key of ['todo/1', 'todo/2', 'todo/3', 'zzz']) await server.cubby.store('alice', key, key)
    const first = await httpRequest(server.url, 'GET', '/v1/values?prefix=todo%2F&limit=2', { token })
    expect(first.json).toEqual({ keys: ['todo/1', 'todo/2'], next: 'todo/2' })
    const second = await httpRequest(server.url, 'GET', '/v1/values?prefix=todo%2F&limit=2&after=todo%2F2', { token })
    expect(second.json).toEqual({ keys: ['todo/3'], next: null })
    const all = await httpRequest(server.url, 'GET', '/v1/values', { token })
    expect(all.json).toEqual({ keys: ['todo/1', 'todo/2', 'todo/3', 'zzz'], next: null })
  })

  it('lists entries with their revs, content types and values', async () => {
    await using server = await startTestServer()
    const token = server.token('alice')
    await server.cubby.store('alice', 'a', { n: 1 })
    await server.cubby.store('alice', 'b', new Set([1]))
    const res = await httpRequest(server.url, 'GET', '/v1/values?values=1', { token })
    expect(res.json).toEqual({
      entries: [
        { key: 'a', rev: 1, contentType: 'application/json', value: { n: 1 } },
        { key: 'b', rev: 2, contentType: CUBBY_VALUE_CONTENT_TYPE, value: expect.any(Array) },
      ],
      next: null,
    })
  })

  it('clears all keys of the user and tells live sessions', async () => {
    await using server = await startTestServer()
    const token = server.token('alice')
    await server.cubby.store('alice', 'a', 1)
    await server.cubby.store('bob', 'a', 1)
    await using socket = await connectUser(server, 'alice')
    const res = await httpRequest(server.url, 'POST', '/v1/clear', { token })
    expect(res.json).toEqual({ rev: 2 })
    await socket.next('changes', (m) => m.changes.some((c) => 'clear' in c))
    expect(await server.cubby.list('alice')).toEqual([])
    expect(await server.cubby.list('bob')).toEqual(['a'])
  })
})

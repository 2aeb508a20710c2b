import { startCliServer } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'

describe('conditional HTTP writes', () => {
  it('takes the version as ETag: If-Match and If-None-Match: * write only while they hold, else 412 CONFLICT', async () => {
    await using server = await startCliServer()
    const auth = { authorization: `Bearer ${server.token('http')}` }
    const json = { ...auth, 'content-type': 'application/json' }
    const url = `${server.url}/v1/values/seat`

    const created = await fetch(url, { method: 'PUT', headers: { ...json, 'if-none-match': '*' }, body: '"alice"' })
    expect(created.status).toBe(200)
    const etag = created.headers.get('etag')!
    expect(etag).toBe(`"${((await created.json()) as { rev: number }).rev}"`)
    const again = await fetch(url, { method: 'PUT', headers: { ...json, 'if-none-match': '*' }, body: '"bob"' })
    expect(again.status).toBe(412)
    expect(await again.json()).toMatchObject({ error: { code: 'CONFLICT' } })
    expect(again.headers.get('etag')).toBe(etag)

    const read = await fetch(url, { headers: auth })
    expect(read.headers.get('etag')).toBe(etag)
    const moved = await fetch(url, { method: 'PUT', headers: { ...json, 'if-match': etag }, body: '"carol"' })
    expect(moved.status).toBe(200)
    const stale = await fetch(url, { method: 'PUT', headers: { ...json, 'if-match': etag }, body: '"dave"' })
    expect(stale.status).toBe(412)
    const staleDelete = await fetch(url, { method: 'DELETE', headers: { ...auth, 'if-match': etag } })
    expect(staleDelete.status).toBe(412)
    expect(await (await fetch(url, { headers: auth })).json()).toBe('carol')
    const deleted = await fetch(url, { method: 'DELETE', headers: { ...auth, 'if-match': moved.headers.get('etag')! } })
    expect(deleted.status).toBe(200)
  })

  it('refuses conditions it cannot check with 400 BAD_MESSAGE, writing nothing', async () => {
    await using server = await startCliServer()
    const json = { authorization: `Bearer ${server.token('http')}`, 'content-type': 'application/json' }
    const url = `${server.url}/v1/values/k`
    for (const headers of [{ 'if-match': '*' }, { 'if-match': 'W/"1"' }, { 'if-match': '"1", "2"' }, { 'if-match': '"0"' }, { 'if-none-match': '"1"' }, { 'if-match': '"1"', 'if-none-match': '*' }]) {
      const res = await fetch(url, { method: 'PUT', headers: { ...json, ...headers }, body: '1' })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: { code: 'BAD_MESSAGE' } })
    }
    expect((await fetch(url, { headers: json })).status).toBe(404)
  })
})

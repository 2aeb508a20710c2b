import { connectTestClient, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

const httpGet = async (url: string, token: string, key: string): Promise<unknown> => {
  const res = await fetch(`${url}/v1/values/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${token}` } })
  return res.status === 404 ? undefined : res.json()
}

describe('offline writes', () => {
  it('commits locally at once while the server is down and flushes in order after reconnect', async () => {
    await using server = await startCliServer()
    const token = server.token('erin')
    await using client = connectTestClient(server.url, { auth: token })
    await client.ready()
    await server.stop()
    await vi.waitFor(() => expect(client.status).toBe('offline'))

    for (let i = 1; i <= 5; i++) await client.store('counter', i)
    await client.store('list', ['a', 'b'])
    await client.delete('list')
    expect(await client.get('counter')).toBe(5)
    expect(await client.get('list')).toBeUndefined()
    expect(client.pendingCount).toBeGreaterThan(0)

    await server.start()
    await client.synced()
    expect(client.pendingCount).toBe(0)
    expect(await httpGet(server.url, token, 'counter')).toBe(5)
    expect(await httpGet(server.url, token, 'list')).toBeUndefined()
  })

  it('keeps the outbox across a reload and flushes it exactly once', async () => {
    await using server = await startCliServer()
    const token = server.token('frank')
    const name = 'frank-browser'
    {
      // First page load: never connected, writes only reach IndexedDB.
      await using tab = connectTestClient(server.url, { auth: token, name, connect: false })
      await tab.store('draft', { title: 'offline draft', body: new Map([['p1', 'text']]) })
      await tab.store('n', 1)
      await tab.store('n', 2)
      expect(tab.pendingCount).toBe(3)
    }
    // Reload: the same IndexedDB database, a new client instance.
    await using reloaded = connectTestClient(server.url, { auth: token, name })
    expect(await reloaded.get('n')).toBe(2)
    expect(reloaded.isPending('draft')).toBe(true)
    await reloaded.synced()
    expect(reloaded.isPending('draft')).toBe(false)
    expect(await httpGet(server.url, token, 'n')).toBe(2)

    // Another device sees the same values, and the server applied each write once (revisions 1..3).
    await using other = connectTestClient(server.url, { auth: token })
    await other.ready()
    expect(await other.get('draft')).toEqual({ title: 'offline draft', body: new Map([['p1', 'text']]) })
    const res = await fetch(`${server.url}/v1/values/n`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.headers.get('x-cubby-rev')).toBe('3')
  })

  it('keeps pending writes visible over older remote values until acknowledged', async () => {
    await using server = await startCliServer()
    const token = server.token('gina')
    await using a = connectTestClient(server.url, { auth: token })
    await using b = connectTestClient(server.url, { auth: token })
    await Promise.all([a.ready(), b.ready()])
    b.disconnect()
    await a.store('theme', 'dark')
    await a.synced()
    const seenByB: unknown[] = []
    b.addEventListener('change', (e) => {
      for (const change of e.detail.changes) if (change.key === 'theme') seenByB.push('value' in change ? change.value : 'deleted')
    })
    await b.store('theme', 'light') // made later, offline: it reaches the server last and wins
    b.connect()
    await b.synced()
    await vi.waitFor(async () => expect(await a.get('theme')).toBe('light'))
    expect(await b.get('theme')).toBe('light')
    // b never flickered back to 'dark' while its own later write was pending.
    expect(seenByB).toEqual(['light'])
  })
})

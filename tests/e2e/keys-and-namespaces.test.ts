import { connectTestClient, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

const auth = (token: string): { headers: { authorization: string } } => ({ headers: { authorization: `Bearer ${token}` } })

describe('listing', () => {
  it('lists keys by prefix in code point order, page by page, on the client and over HTTP alike', async () => {
    await using server = await startCliServer()
    const token = server.token('lena')
    await using writer = connectTestClient(server.url, { auth: token })
    const keys = ['todo/1', 'todo/10', 'todo/2', 'todo/\u{1F600}', 'todo/\uFFFD', 'todo', 'todos', 'note/1', 'to']
    await Promise.all(keys.map((k, i) => writer.store(k, i)))
    await writer.synced()

    await using cold = connectTestClient(server.url, { auth: token })
    await cold.ready()
    const expected = ['todo/1', 'todo/10', 'todo/2', 'todo/\uFFFD', 'todo/\u{1F600}']
    expect(await cold.list({ prefix: 'todo/' })).toEqual(expected)
    const pages: string[][] = []
    let after: string | undefined
    for (;;) {
      const page = await cold.list({ prefix: 'todo/', limit: 2, ...(after === undefined ? {} : { after }) })
      if (page.length === 0) break
      pages.push(page)
      after = page.at(-1)
    }
    expect(pages).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)])
    expect(await cold.entries({ prefix: 'note/' })).toEqual([['note/1', 7]])

    const httpPages: string[] = []
    let next: string | null = ''
    while (next !== null) {
      const url = `${server.url}/v1/values?prefix=${encodeURIComponent('todo/')}&limit=2&after=${encodeURIComponent(next)}`
      const page = (await (await fetch(url, auth(token))).json()) as { keys: string[]; next: string | null }
      httpPages.push(...page.keys)
      next = page.next
    }
    expect(httpPages).toEqual(expected)
  })
})

describe('namespaces', () => {
  // Each of these must stay a user of its own and a key of its own, whatever the storage's separators are.
  const hostileUsers = ['a', 'a\u0000b', 'a\u0000', '1:a', 'a:', 'a!', '!a', 'a/b', '../a', '%2Fa', 'a\uffff', '\u00ff', 'd']
  const hostileKeys = ['k', 'k\u0000', '\u0000', 'k/..', '../../etc/passwd', 'k%2F', 'k!x', '\uffff', 'l1:a\u0000k']

  it('keeps keys and user ids full of separator characters in their own namespace', async () => {
    await using server = await startCliServer()
    const clients = hostileUsers.map((user) => ({ user, client: connectTestClient(server.url, { auth: server.token(user) }) }))
    try {
      await Promise.all(clients.map(({ user, client }) => Promise.all(hostileKeys.map((k) => client.store(k, { user, k })))))
      await Promise.all(clients.map(({ client }) => client.synced()))
      for (const { user } of clients) {
        await using cold = connectTestClient(server.url, { auth: server.token(user) })
        await cold.ready()
        expect(await cold.list(), user).toEqual([...hostileKeys].sort(compareCodePoints))
        for (const k of hostileKeys) expect(await cold.get(k)).toEqual({ user, k })
        expect(await cold.list({ prefix: 'k' })).toEqual(hostileKeys.filter((k) => k.startsWith('k')).sort(compareCodePoints))
        const res = await fetch(`${server.url}/v1/values/${encodeURIComponent('k/..')}`, auth(server.token(user)))
        expect(await res.json()).toEqual({ user, k: 'k/..' })
      }
    } finally {
      await Promise.all(clients.map(({ client }) => client.close()))
    }
  })

  it('clears one user without touching a user whose id extends it', async () => {
    await using server = await startCliServer()
    await using a = connectTestClient(server.url, { auth: server.token('a') })
    await using ab = connectTestClient(server.url, { auth: server.token('a\u0000b') })
    await a.store('x', 1)
    await ab.store('x', 2)
    await Promise.all([a.synced(), ab.synced()])
    await a.clear()
    await a.synced()
    expect(await a.list()).toEqual([])
    await using abCold = connectTestClient(server.url, { auth: server.token('a\u0000b') })
    await abCold.ready()
    expect(await abCold.get('x')).toBe(2)
    await vi.waitFor(async () => expect(await a.get('x')).toBeUndefined())
  })
})

function compareCodePoints(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!)
  const y = [...b].map((c) => c.codePointAt(0)!)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}

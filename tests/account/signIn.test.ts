import { randomUUID } from 'node:crypto'
import type { Cubby } from '@cubby/client'
import { isCubbyError } from '@cubby/protocol'
import { type CliServer, connectTestClient, connectUser, offlineToken, signTestToken, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { lossyWebSocket } from './lossyWebSocket.js'
import { headOf, onServer, put } from './serverValues.js'

/** Every visible value of a client. */
async function valuesOf(client: Cubby): Promise<Record<string, unknown>> {
  return Object.fromEntries(await client.entries())
}

/** An anonymous client, online, with `values` synced to the server. */
async function anonymousWith(server: CliServer, values: Record<string, unknown>, name = `device-${randomUUID()}`): Promise<Cubby> {
  const client = connectTestClient(server.url, { name })
  for (const [key, value] of Object.entries(values)) await client.store(key, value)
  await client.ready()
  await client.synced()
  return client
}

describe('cubby.signIn against the real server process', () => {
  it('keeps the account\'s value on a key both have by default, and becomes the account\'s client', async () => {
    await using server = await startCliServer()
    await put(server, 'alice', 'theme', 'light')
    await put(server, 'alice', 'plan', 'pro')
    await using client = await anonymousWith(server, { theme: 'dark', draft: 'hello' })
    const anonymous = client.userId!
    // Signed now, before the merge: a token issued in a later second than the deletion would be a new one, and valid.
    const anonymousToken = server.token(anonymous)
    expect((await fetch(`${server.url}/v1/values`, { headers: { authorization: `Bearer ${anonymousToken}` } })).status).toBe(200)
    const changed = new Set<string>()
    client.addEventListener('change', (e) => e.detail.keys.forEach((k) => changed.add(k)))

    expect(await client.signIn(server.token('alice'))).toEqual({ account: 'alice', written: 1, conflicts: ['theme'] })
    expect(client.userId).toBe('alice')
    expect(await client.get('draft')).toBe('hello')
    await vi.waitFor(() => expect(client.status).toBe('online'))
    await vi.waitFor(async () => expect(await valuesOf(client)).toEqual({ draft: 'hello', plan: 'pro', theme: 'light' }))
    expect([...changed].sort()).toEqual(['plan', 'theme'])
    expect(await onServer(server, 'alice')).toEqual({ draft: 'hello', plan: 'pro', theme: 'light' })
    // The anonymous user is gone on the server, and writes now go to the account.
    const old = await fetch(`${server.url}/v1/values`, { headers: { authorization: `Bearer ${anonymousToken}` } })
    expect(old.status).toBe(401)
    await client.store('after', 1)
    await client.synced()
    expect((await onServer(server, 'alice')).after).toBe(1)
  })

  it('takes the anonymous value with prefer: anonymous', async () => {
    await using server = await startCliServer()
    await put(server, 'bob', 'theme', 'light')
    await using client = await anonymousWith(server, { theme: 'dark' })
    expect(await client.signIn(() => server.token('bob'), { prefer: 'anonymous' })).toEqual({ account: 'bob', written: 1, conflicts: ['theme'] })
    expect(await client.get('theme')).toBe('dark')
    await vi.waitFor(() => expect(client.status).toBe('online'))
    expect(await onServer(server, 'bob')).toEqual({ theme: 'dark' })
  })

  it('stores what a merge function makes of each key both have, once the account\'s values arrived', async () => {
    await using server = await startCliServer()
    await put(server, 'carol', 'tags', ['work'])
    await put(server, 'carol', 'name', 'Carol')
    await using client = await anonymousWith(server, { tags: ['home'], name: 'anon', solo: 1 })
    const calls: unknown[] = []
    const result = await client.signIn(server.token('carol'), {
      merge: (key, anonymousValue, accountValue) => {
        calls.push([key, anonymousValue, accountValue])
        return key === 'tags' ? [...(accountValue as string[]), ...(anonymousValue as string[])] : undefined
      },
    })
    expect(result).toEqual({ account: 'carol', written: 1, conflicts: ['name', 'tags'] })
    expect(calls).toEqual([['name', 'anon', 'Carol'], ['tags', ['home'], ['work']]])
    expect(await valuesOf(client)).toEqual({ solo: 1, tags: ['work', 'home'] })
    await client.synced()
    expect(await onServer(server, 'carol')).toEqual({ solo: 1, tags: ['work', 'home'] })
  })

  it('carries pending writes over exactly once: one the server applied but whose ack was lost, and offline ones', async () => {
    await using server = await startCliServer()
    const lossy = lossyWebSocket()
    await using client = connectTestClient(server.url, { WebSocket: lossy.WebSocket })
    await client.store('x', 1)
    await client.ready()
    await client.synced()
    // The server applies the next write, and the connection is cut before its ack arrives.
    const lost = new Promise<void>((resolve) => lossy.loseNextAck(() => (client.disconnect(), resolve())))
    await client.store('count', 1)
    await lost
    expect(client.pendingCount).toBe(1)
    // Offline writes, never sent.
    await client.store('count', 2)
    await client.store('offline', true)
    expect(client.pendingCount).toBe(3)

    const result = await client.signIn(server.token('dave'))
    expect(result).toEqual({ account: 'dave', written: 2, conflicts: [] })
    expect(client.status).toBe('offline') // it was disconnected, and stays so until connect()
    expect(client.pendingCount).toBe(3)
    expect(await valuesOf(client)).toEqual({ count: 2, offline: true, x: 1 })
    client.connect()
    await vi.waitFor(() => expect(client.status).toBe('online'))
    await client.synced()
    expect(client.pendingCount).toBe(0)
    expect(await onServer(server, 'dave')).toEqual({ count: 2, offline: true, x: 1 })
    // The merge wrote x and count (revisions 1, 2); the lost-ack write was not applied again: count=2 and offline only.
    expect(await headOf(server, 'dave')).toBe(4)
  })

  it('shows the account\'s value where a write whose ack was lost lost the merge to it', async () => {
    await using server = await startCliServer()
    await put(server, 'erin', 'theme', 'light')
    // Enough of the account's keys that its catch-up takes several pages, so acks can come in between them.
    {
      await using erin = await connectUser(server, 'erin')
      for (let page = 0; page < 3; page++) {
        const mutations = Array.from({ length: 500 }, (_, i) => ({ op: 'store', mid: page * 500 + i + 1, key: `k${page * 500 + i}`, value: '1' }))
        erin.send({ type: 'push', clientId: 'seed', mutations })
        await erin.next('ack', (f) => (f.results as Array<{ mid: number }>).at(-1)!.mid === page * 500 + 500)
      }
    }
    const lossy = lossyWebSocket()
    await using client = connectTestClient(server.url, { WebSocket: lossy.WebSocket })
    await client.ready()
    await client.synced()
    // The server applies the anonymous write of theme, and the connection is cut before its ack arrives.
    const lost = new Promise<void>((resolve) => lossy.loseNextAck(() => (client.disconnect(), resolve())))
    await client.store('theme', 'dark')
    await lost

    expect(await client.signIn(server.token('erin'))).toMatchObject({ account: 'erin', conflicts: ['theme'] })
    client.connect()
    await vi.waitFor(() => expect(client.status).toBe('online'))
    await client.synced()
    // The retry is acknowledged at the merge's head without being applied: the account's value won the merge.
    const onErin = await fetch(`${server.url}/v1/values/theme`, { headers: { authorization: `Bearer ${server.token('erin')}` } })
    expect(await onErin.json()).toBe('light')
    await vi.waitFor(async () => expect(await client.get('theme')).toBe('light'))
    expect(client.pendingCount).toBe(0)
  })

  it('merges two devices, each with its own anonymous data, into one account', async () => {
    await using server = await startCliServer()
    await using phone = await anonymousWith(server, { 'phone-note': 'a', shared: 'from phone' })
    await using tablet = await anonymousWith(server, { 'tablet-note': 'b', shared: 'from tablet' })
    expect(await phone.signIn(server.token('erin'))).toEqual({ account: 'erin', written: 2, conflicts: [] })
    expect(await tablet.signIn(server.token('erin'))).toEqual({ account: 'erin', written: 1, conflicts: ['shared'] })
    const all = { 'phone-note': 'a', shared: 'from phone', 'tablet-note': 'b' }
    expect(await onServer(server, 'erin')).toEqual(all)
    await vi.waitFor(async () => expect(await valuesOf(phone)).toEqual(all))
    await vi.waitFor(async () => expect(await valuesOf(tablet)).toEqual(all))
  })

  it('stays the account after a reload with its auth, pending writes included, and leaves no anonymous identity behind', async () => {
    await using server = await startCliServer()
    const name = `device-${randomUUID()}`
    const client = await anonymousWith(server, { synced: 1 }, name)
    const anonymous = client.userId
    client.disconnect()
    await client.store('pending', 2)
    await client.signIn(server.token('fay'))
    await client.close()

    await using reloaded = connectTestClient(server.url, { name, auth: server.token('fay'), connect: false })
    expect(await valuesOf(reloaded)).toEqual({ pending: 2, synced: 1 })
    expect(reloaded.userId).toBe('fay')
    expect(reloaded.pendingCount).toBe(1)
    reloaded.connect()
    await reloaded.synced()
    expect(await onServer(server, 'fay')).toEqual({ pending: 2, synced: 1 })
    // Without auth, the app gets a new anonymous user: the merged one is not brought back.
    await using fresh = connectTestClient(server.url, { name })
    await fresh.ready()
    expect(fresh.userId).not.toBe(anonymous)
    expect(await valuesOf(fresh)).toEqual({})
  })

  it('runs one sign-in at a time: a second call made meanwhile is refused with FORBIDDEN, the first one merges', async () => {
    await using server = await startCliServer()
    await using client = await anonymousWith(server, { a: 1 })
    const [first, second] = await Promise.allSettled([client.signIn(server.token('max')), client.signIn(server.token('max'))])
    expect(first).toEqual({ status: 'fulfilled', value: { account: 'max', written: 1, conflicts: [] } })
    expect(second.status === 'rejected' && isCubbyError(second.reason, 'FORBIDDEN')).toBe(true)
    await vi.waitFor(() => expect(client.status).toBe('online'))
    expect(await valuesOf(client)).toEqual({ a: 1 })
  })

  it('signs in a client with a memory cache, carrying its values and pending writes', async () => {
    await using server = await startCliServer()
    await using client = connectTestClient(server.url, { cache: 'memory' })
    await client.store('a', 1)
    await client.ready()
    await client.synced()
    client.disconnect()
    await client.store('b', 2)
    expect(await client.signIn(server.token('lea'))).toEqual({ account: 'lea', written: 1, conflicts: [] })
    expect(await valuesOf(client)).toEqual({ a: 1, b: 2 })
    client.connect()
    await client.synced()
    expect(await onServer(server, 'lea')).toEqual({ a: 1, b: 2 })
  })

  it('rejects with NETWORK when the server is down, and the anonymous client keeps working', async () => {
    await using server = await startCliServer()
    await using client = await anonymousWith(server, { a: 1 })
    const anonymous = client.userId
    await server.stop()
    const error: unknown = await client.signIn(server.token('gus')).catch((e: unknown) => e)
    expect(isCubbyError(error, 'NETWORK')).toBe(true)
    expect(client.userId).toBe(anonymous)
    await client.store('b', 2)
    expect(await valuesOf(client)).toEqual({ a: 1, b: 2 })
    await server.start()
    await vi.waitFor(() => expect(client.status).toBe('online'), { timeout: 15_000 })
    await client.synced()
    expect(await onServer(server, anonymous!)).toEqual({ a: 1, b: 2 })
  })

  it('rejects a refused account token with UNAUTHORIZED and keeps the anonymous user whole', async () => {
    await using server = await startCliServer()
    await using client = await anonymousWith(server, { a: 1 })
    const anonymous = client.userId!
    const error: unknown = await client.signIn(signTestToken('not-the-secret', 'hal')).catch((e: unknown) => e)
    expect(isCubbyError(error, 'UNAUTHORIZED')).toBe(true)
    expect(client.userId).toBe(anonymous)
    await vi.waitFor(() => expect(client.status).toBe('online'))
    await client.store('b', 2)
    await client.synced()
    expect(await onServer(server, anonymous)).toEqual({ a: 1, b: 2 })
    expect(await onServer(server, 'hal')).toEqual({})
  })

  it('refuses with FORBIDDEN on a client that is signed in already, before asking the server', async () => {
    await using client = connectTestClient('http://127.0.0.1:9', { auth: offlineToken('ivy'), cache: 'memory', connect: false })
    const error: unknown = await client.signIn(offlineToken('jon')).catch((e: unknown) => e)
    expect(isCubbyError(error, 'FORBIDDEN')).toBe(true)
    expect(client.userId).toBe('ivy')
  })
})

import { randomUUID } from 'node:crypto'
import { type Cubby, type CubbyCacheProvider, createMemoryCache } from '@cubby/client'
import { isCubbyError } from '@cubby/protocol'
import { type CliServer, connectTestClient, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { lossyWebSocket } from './lossyWebSocket.js'
import { headOf, onServer, put } from './serverValues.js'

/** The names of the IndexedDB databases of this process (fake-indexeddb). */
async function databases(): Promise<string[]> {
  return (await indexedDB.databases()).map((d) => d.name!)
}

/**
 * A `fetch` whose merge request is the page's last act: `before`, it never leaves; `after`, the server merges and
 * answers, and the answer never reaches the client. `cut` resolves then (the test closes the client, as the page
 * closing would).
 */
function interruptedMerge(at: 'before' | 'after'): { fetch: typeof fetch; cut: Promise<void> } {
  let cut!: () => void
  const done = new Promise<void>((resolve) => (cut = resolve))
  const fetchFn: typeof fetch = async (input, init) => {
    if (!String(input instanceof Request ? input.url : input).endsWith('/v1/account/merge')) return fetch(input, init)
    if (at === 'after') await fetch(input, init)
    cut()
    return new Promise<Response>(() => {})
  }
  return { fetch: fetchFn, cut: done }
}

/**
 * An anonymous client named `name` with `synced` on the server, then pending writes: one the server applied whose
 * ack was lost (`count: 1`), and offline ones (`count: 2`, `offline: true`).
 */
async function anonymousWithPending(server: CliServer, name: string, fetchFn: typeof fetch): Promise<Cubby> {
  const lossy = lossyWebSocket()
  const client = connectTestClient(server.url, { name, WebSocket: lossy.WebSocket, fetch: fetchFn })
  await client.store('synced', 'anonymous')
  await client.ready()
  await client.synced()
  const lost = new Promise<void>((resolve) => lossy.loseNextAck(() => (client.disconnect(), resolve())))
  await client.store('count', 1)
  await lost
  await client.store('count', 2)
  await client.store('offline', true)
  expect(client.pendingCount).toBe(3)
  return client
}

/** A memory provider (one device's storage, shared by the clients given it) whose cache of `failing` refuses writes while `fails`. */
function storageFailingFor(failing: string): { provider: CubbyCacheProvider; fails: boolean } {
  const memory = createMemoryCache()
  const storage: { provider: CubbyCacheProvider; fails: boolean } = {
    fails: true,
    provider: {
      kind: 'memory',
      loadIdentity: () => memory.loadIdentity(),
      saveIdentity: (identity) => memory.saveIdentity(identity),
      async open(userId) {
        const cache = await memory.open(userId)
        if (userId !== failing) return cache
        return {
          persistent: false,
          load: () => cache.load(),
          write: (batch) => (storage.fails ? Promise.reject(new Error('The disk failed')) : cache.write(batch)),
          destroy: () => cache.destroy(),
          close: () => cache.close(),
        }
      },
    } satisfies CubbyCacheProvider,
  }
  return storage
}

describe('an interrupted cubby.signIn, against the real server process', () => {
  it('finishes at the account\'s next start when the page closed right after the server merged: every pending write once', async () => {
    await using server = await startCliServer()
    await put(server, 'olga', 'synced', 'account')
    const name = `device-${randomUUID()}`
    const merge = interruptedMerge('after')
    const client = await anonymousWithPending(server, name, merge.fetch)
    const anonymous = client.userId!
    void client.signIn(server.token('olga'))
    await merge.cut
    await client.close()
    // The server merged: `synced` kept the account's value, `count` (1, its ack lost) was written; revisions 1 and 2.
    expect(await onServer(server, 'olga')).toEqual({ count: 1, synced: 'account' })
    expect(await databases()).toContain(`cubby:${JSON.stringify([name, anonymous])}`)

    await using account = connectTestClient(server.url, { name, auth: server.token('olga') })
    await account.ready()
    expect(account.userId).toBe('olga')
    await vi.waitFor(() => expect(account.status).toBe('online'), { timeout: 15_000 })
    await account.synced()
    expect(account.pendingCount).toBe(0)
    expect(Object.fromEntries(await account.entries())).toEqual({ count: 2, offline: true, synced: 'account' })
    expect(await onServer(server, 'olga')).toEqual({ count: 2, offline: true, synced: 'account' })
    // count=1 was acknowledged under its own client id and mid, not applied again: count=2 and offline only.
    expect(await headOf(server, 'olga')).toBe(4)
    expect(await databases()).not.toContain(`cubby:${JSON.stringify([name, anonymous])}`)
    // Nothing is brought back: without auth the app gets a new anonymous user.
    await using fresh = connectTestClient(server.url, { name })
    await fresh.ready()
    expect(fresh.userId).not.toBe(anonymous)
    expect(await fresh.entries()).toEqual([])
  })

  it('merges at the account\'s next start when the page closed before the request reached the server, by the rule asked for', async () => {
    await using server = await startCliServer()
    await put(server, 'pia', 'synced', 'account')
    const name = `device-${randomUUID()}`
    const merge = interruptedMerge('before')
    const client = await anonymousWithPending(server, name, merge.fetch)
    const anonymous = client.userId!
    void client.signIn(server.token('pia'), { prefer: 'anonymous' })
    await merge.cut
    await client.close()
    expect(await onServer(server, 'pia')).toEqual({ synced: 'account' })
    // Signed before the merge: one signed in a later second than the deletion would be a new, valid token.
    const anonymousToken = server.token(anonymous)

    await using account = connectTestClient(server.url, { name, auth: server.token('pia') })
    await account.ready()
    // The merge ran now, with prefer: anonymous; the values it kept show before the catch-up.
    expect(await account.get('synced')).toBe('anonymous')
    await vi.waitFor(() => expect(account.status).toBe('online'), { timeout: 15_000 })
    await account.synced()
    expect(account.pendingCount).toBe(0)
    expect(Object.fromEntries(await account.entries())).toEqual({ count: 2, offline: true, synced: 'anonymous' })
    expect(await onServer(server, 'pia')).toEqual({ count: 2, offline: true, synced: 'anonymous' })
    // The account's put (1), the merge's two writes (synced, count=1), then count=2 and offline: count=1 once.
    expect(await headOf(server, 'pia')).toBe(5)
    expect(await databases()).not.toContain(`cubby:${JSON.stringify([name, anonymous])}`)
    const gone = await fetch(`${server.url}/v1/values`, { headers: { authorization: `Bearer ${anonymousToken}` } })
    expect(gone.status).toBe(401)
  })

  it('refuses an anonymous start (no auth) while the switch is unfinished, with FORBIDDEN, and changes nothing', async () => {
    await using server = await startCliServer()
    const name = `device-${randomUUID()}`
    const merge = interruptedMerge('after')
    const client = await anonymousWithPending(server, name, merge.fetch)
    void client.signIn(server.token('quin'))
    await merge.cut
    await client.close()

    await using again = connectTestClient(server.url, { name })
    const error: unknown = await again.ready().catch((e: unknown) => e)
    expect(isCubbyError(error, 'FORBIDDEN')).toBe(true)
    expect(again.status).toBe('offline')

    await using account = connectTestClient(server.url, { name, auth: server.token('quin') })
    await vi.waitFor(() => expect(account.status).toBe('online'), { timeout: 15_000 })
    await account.synced()
    expect(await onServer(server, 'quin')).toEqual({ count: 2, offline: true, synced: 'anonymous' })
    // The merge's two writes, then count=2 and offline: the anonymous start sent none of them elsewhere.
    expect(await headOf(server, 'quin')).toBe(4)
  })

  it('closes the client when writing the switch into the account\'s cache fails after the merge, and the next start finishes it', async () => {
    await using server = await startCliServer()
    const storage = storageFailingFor('rae')
    const client = connectTestClient(server.url, { cache: storage.provider })
    await client.store('a', 1)
    await client.ready()
    await client.synced()
    client.disconnect()
    await client.store('b', 2)
    const error: unknown = await client.signIn(server.token('rae')).catch((e: unknown) => e)
    expect(isCubbyError(error, 'STORAGE_ERROR')).toBe(true)
    // Not back to the anonymous user the server deleted: the client is closed.
    expect(isCubbyError(await client.store('c', 3).then(() => undefined, (e: unknown) => e), 'CLOSED')).toBe(true)
    expect(await onServer(server, 'rae')).toEqual({ a: 1 })

    storage.fails = false
    await using account = connectTestClient(server.url, { cache: storage.provider, auth: server.token('rae') })
    await vi.waitFor(() => expect(account.status).toBe('online'), { timeout: 15_000 })
    await account.synced()
    expect(Object.fromEntries(await account.entries())).toEqual({ a: 1, b: 2 })
    expect(await onServer(server, 'rae')).toEqual({ a: 1, b: 2 })
    expect(await storage.provider.loadIdentity()).toBeUndefined()
  })

  it('loads the account as it is when the server cannot be reached, reports NETWORK, and finishes at the next start', async () => {
    await using server = await startCliServer()
    const name = `device-${randomUUID()}`
    const merge = interruptedMerge('after')
    const client = await anonymousWithPending(server, name, merge.fetch)
    void client.signIn(server.token('tess'))
    await merge.cut
    await client.close()
    await server.stop()

    const offline = connectTestClient(server.url, { name, auth: server.token('tess') })
    const errors: unknown[] = []
    offline.addEventListener('error', (e) => errors.push(e.detail.error.code))
    // Loaded (reads wait for that) without the anonymous writes, and the failure reported.
    expect(await offline.get('offline')).toBeUndefined()
    expect(errors).toContain('NETWORK')
    await offline.close()

    await server.start()
    await using account = connectTestClient(server.url, { name, auth: server.token('tess') })
    await vi.waitFor(() => expect(account.status).toBe('online'), { timeout: 15_000 })
    await account.synced()
    expect(Object.fromEntries(await account.entries())).toEqual({ count: 2, offline: true, synced: 'anonymous' })
    expect(await headOf(server, 'tess')).toBe(4)
  })
})

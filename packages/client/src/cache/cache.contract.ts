import type { Mutation } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import type { CacheWrite, CubbyCacheProvider, OutboxEntry } from './CubbyCache.js'

const store = (mid: number, key: string, value: string): Mutation => ({ op: 'store', mid, key, value })
const outbox = (seq: number, clientId: string, mutation: Mutation): OutboxEntry => ({ seq, clientId, mutation })

const sample: CacheWrite = {
  putEntries: [
    { key: 'a', rev: 1, value: '1' },
    { key: 'b\u0000', rev: 2, value: '"two"' },
  ],
  outboxPut: [outbox(2, 'tab-2', store(1, 'c', '3')), outbox(1, 'tab-1', store(7, 'a', '4')), outbox(3, 'tab-2', { op: 'clear', mid: 2 })],
  cursor: 2,
}

/**
 * The behaviour every {@link CubbyCacheProvider} must have. `makeProvider` is called once per provider wanted
 * within a test; the test file gives each test a fresh IndexedDB.
 */
export function runCacheContract(name: string, makeProvider: () => CubbyCacheProvider): void {
  describe(`cache contract: ${name}`, () => {
    it('loads an empty snapshot for a new user', async () => {
      const cache = await makeProvider().open('alice')
      expect(await cache.load()).toEqual({ entries: [], outbox: [], cursor: 0 })
      await cache.close()
    })

    it('reads back a write after reopening, with the outbox in seq order', async () => {
      const provider = makeProvider()
      const first = await provider.open('alice')
      await first.write(sample)
      await first.close()
      const again = await provider.open('alice')
      const snapshot = await again.load()
      expect(snapshot.entries.sort((x, y) => (x.key < y.key ? -1 : 1))).toEqual(sample.putEntries)
      expect(snapshot.outbox.map((e) => e.seq)).toEqual([1, 2, 3])
      expect(snapshot.outbox[0]).toEqual(outbox(1, 'tab-1', store(7, 'a', '4')))
      expect(snapshot.cursor).toBe(2)
      await again.close()
    })

    it('keeps the data for a new provider when it is persistent', async () => {
      const cache = await makeProvider().open('alice')
      await cache.write(sample)
      await cache.close()
      const reloaded = await makeProvider().open('alice')
      const snapshot = await reloaded.load()
      expect(snapshot.entries.length).toBe(reloaded.persistent ? 2 : 0)
      await reloaded.close()
    })

    it('applies clears and deletes before puts, and outbox deletes', async () => {
      const cache = await makeProvider().open('alice')
      await cache.write(sample)
      await cache.write({ clearEntries: true, putEntries: [{ key: 'z', rev: 5, value: '5' }], outboxDelete: [{ clientId: 'tab-2', mid: 1 }], cursor: 5 })
      await cache.write({ deleteEntries: ['missing'], putEntries: [{ key: 'y', rev: 6, value: '6' }] })
      await cache.write({ deleteEntries: ['y'] })
      const snapshot = await cache.load()
      expect(snapshot.entries).toEqual([{ key: 'z', rev: 5, value: '5' }])
      expect(snapshot.outbox.map((e) => [e.clientId, e.mutation.mid])).toEqual([
        ['tab-1', 7],
        ['tab-2', 2],
      ])
      expect(snapshot.cursor).toBe(5)
      await cache.close()
    })

    it('deletes exactly the outbox entries named, in runs of mids or not, in any order', async () => {
      const cache = await makeProvider().open('alice')
      const clients = ['a', 'ab', 'b']
      await cache.write({ outboxPut: clients.flatMap((clientId, c) => Array.from({ length: 8 }, (_, i) => outbox(c * 8 + i, clientId, store(i + 1, `${clientId}${i}`, '1')))) })
      await cache.write({
        outboxDelete: [7, 2, 3, 4, 6].map((mid) => ({ clientId: 'a', mid })).concat([{ clientId: 'ab', mid: 8 }, { clientId: 'ab', mid: 1 }, { clientId: 'b', mid: 9 }]),
      })
      const left = (await cache.load()).outbox.map((e) => `${e.clientId}:${e.mutation.mid}`)
      expect(left).toEqual(['a:1', 'a:5', 'a:8', ...[2, 3, 4, 5, 6, 7].map((mid) => `ab:${mid}`), ...[1, 2, 3, 4, 5, 6, 7, 8].map((mid) => `b:${mid}`)])
      await cache.close()
    })

    it('writes nothing of a batch whose transaction fails', async () => {
      const cache = await makeProvider().open('alice')
      await cache.write({ putEntries: [{ key: 'kept', rev: 1, value: '1' }], cursor: 1 })
      // Neither a function nor a symbol can be stored (structured clone refuses both).
      for (const bad of [() => 1, Symbol('x')]) {
        const poisoned = { op: 'store', mid: 1, key: 'x', value: bad as unknown as string } as Mutation
        const failing = cache.write({ putEntries: [{ key: 'lost', rev: 2, value: '2' }], outboxPut: [outbox(1, 'c', poisoned)], cursor: 2 })
        await expect(failing).rejects.toThrow()
      }
      expect(await cache.load()).toEqual({ entries: [{ key: 'kept', rev: 1, value: '1' }], outbox: [], cursor: 1 })
      await cache.close()
    })

    it('destroys one user and keeps another', async () => {
      const provider = makeProvider()
      const alice = await provider.open('alice')
      const bob = await provider.open('bob')
      await alice.write(sample)
      await bob.write({ putEntries: [{ key: 'b', rev: 1, value: '1' }], cursor: 1 })
      await alice.destroy()
      expect(await (await provider.open('alice')).load()).toEqual({ entries: [], outbox: [], cursor: 0 })
      expect((await bob.load()).entries).toEqual([{ key: 'b', rev: 1, value: '1' }])
      await bob.close()
    })

    it('keeps two users apart, whatever characters their ids hold', async () => {
      const provider = makeProvider()
      const users = ['a', 'a\u0000b', 'a\u0000', '1:a', 'a/b', '"a"']
      const caches = await Promise.all(users.map((u) => provider.open(u)))
      await Promise.all(caches.map((c, i) => c.write({ putEntries: [{ key: 'k', rev: i + 1, value: JSON.stringify(users[i]) }], cursor: i + 1 })))
      for (const [i, cache] of caches.entries()) {
        expect(await cache.load()).toEqual({ entries: [{ key: 'k', rev: i + 1, value: JSON.stringify(users[i]) }], outbox: [], cursor: i + 1 })
        await cache.close()
      }
    })

    it('keeps newer server data when a tab writes older data after another tab', async () => {
      const provider = makeProvider()
      const ahead = await provider.open('alice')
      const behind = await provider.open('alice')
      await ahead.write({ putEntries: [{ key: 'k', rev: 9, value: '"new"' }], cursor: 9 })
      await behind.write({
        clearEntries: true,
        deleteEntries: ['k'],
        putEntries: [{ key: 'k', rev: 7, value: '"old"' }],
        outboxPut: [outbox(1, 'tab-b', store(1, 'x', '1'))],
        cursor: 7,
      })
      await behind.write({ cursor: 8 })
      const snapshot = await ahead.load()
      expect(snapshot.entries).toEqual([{ key: 'k', rev: 9, value: '"new"' }])
      expect(snapshot.cursor).toBe(9)
      expect(snapshot.outbox).toHaveLength(1)
      await behind.write({ putEntries: [{ key: 'k', rev: 11, value: '"newer"' }], cursor: 11 })
      expect(await ahead.load()).toMatchObject({ entries: [{ key: 'k', rev: 11, value: '"newer"' }], cursor: 11 })
      await Promise.all([ahead.close(), behind.close()])
    })

    it('replaces records and cursor on a reset, whatever is stored', async () => {
      const cache = await makeProvider().open('alice')
      await cache.write({ putEntries: [{ key: 'k', rev: 9, value: '1' }], cursor: 9 })
      await cache.write({ reset: true, clearEntries: true, putEntries: [{ key: 'j', rev: 2, value: '2' }], cursor: 2 })
      expect(await cache.load()).toEqual({ entries: [{ key: 'j', rev: 2, value: '2' }], outbox: [], cursor: 2 })
      await cache.close()
    })

    it('saves, loads and clears the identity', async () => {
      const provider = makeProvider()
      expect(await provider.loadIdentity()).toBeUndefined()
      await provider.saveIdentity({ userId: 'anon_1', token: 't' })
      expect(await provider.loadIdentity()).toEqual({ userId: 'anon_1', token: 't' })
      await provider.saveIdentity(undefined)
      expect(await provider.loadIdentity()).toBeUndefined()
    })

    it('keeps a device identity with its non-extractable private key, which still signs after loading', async () => {
      const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
      const publicJwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } as const
      const provider = makeProvider()
      // IndexedDB stores a structured clone of the CryptoKey and gives back another one.
      await provider.saveIdentity({ userId: 'anon_key_1', privateKey: pair.privateKey, publicJwk })
      const loaded = await provider.loadIdentity()
      expect(loaded).toMatchObject({ userId: 'anon_key_1', publicJwk })
      const { privateKey } = loaded as { privateKey: CryptoKey }
      expect(privateKey.extractable).toBe(false)
      const data = new TextEncoder().encode('hello')
      const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, data)
      expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, signature, data)).toBe(true)
    })
  })
}

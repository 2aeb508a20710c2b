import type { Change, Mutation } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import type { CubbyStorage } from './CubbyStorage.js'
import type { StorageContractFixture, StorageContractOptions } from './storage.contract.js'
import type { UserRecord } from './UserRecord.js'

const store = (mid: number, key: string, value: string): Mutation => ({ op: 'store', mid, key, value })
const del = (mid: number, key: string): Mutation => ({ op: 'delete', mid, key })

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}

async function snapshotOf(storage: CubbyStorage, userId: string): Promise<{ clearRev: number; records: Change[] }> {
  const snapshot = await storage.snapshot(userId)
  const records: Change[] = []
  try {
    for (let page = await snapshot.next(500); page.length > 0; page = await snapshot.next(500)) records.push(...page)
  } finally {
    await snapshot.close()
  }
  return { clearRev: snapshot.clearRev, records }
}

/** Every way to read a user, for comparing what each of them shows. */
async function reads(storage: CubbyStorage, userId: string): Promise<unknown> {
  const exported = await collect(storage.exportUser(userId)).catch((error: unknown) => error)
  return {
    get: await storage.get(userId, 'k1'),
    list: await storage.list(userId, { limit: 10_000 }),
    changes: await storage.changesSince(userId, 0, 10_000),
    snapshot: await snapshotOf(storage, userId),
    exported: Array.isArray(exported) ? (exported as UserRecord[]).slice(1) : exported,
  }
}

/**
 * The deletion part of the storage contract: clears and user deletions take effect at once and whole (also for a
 * large user, and across a reopen), a deletion is a barrier for writes authorised before it, and deleting what is
 * not there stores nothing. @internal
 */
export function runDeletionContract(setup: (options?: StorageContractOptions) => Promise<StorageContractFixture>): void {
  describe('deletion', () => {
    it('stores nothing for deletes of keys without a live value, however many', async () => {
      await using f = await setup({ quota: { maxBytes: 10_000 } })
      await f.storage.commit('u', [store(1, 'k', '1')])
      const before = await f.storage.users({ limit: 1 })
      // Far more than the byte quota would hold as tombstones.
      const deletes = Array.from({ length: 2000 }, (_, i) => del(i + 1, `never${i}`))
      const r = await f.storage.commit('u', deletes)
      expect(r.results.every((x) => 'rev' in x)).toBe(true)
      expect(r.head).toBe(2001)
      expect(await f.storage.users({ limit: 1 })).toEqual([{ ...before[0]!, head: 2001 }])
      expect((await collect(f.storage.exportUser('u'))).length).toBe(2)
      expect(await f.storage.changesSince('u', 0, 10)).toEqual({ changes: [{ rev: 1, key: 'k', value: '1' }], rev: 2001 })
    })

    it('lets a client that holds a key from before a clear converge, though a later delete of it stores nothing', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'k', '1')])
      // A client synced to rev 1 holds `k`; then the user clears, and an offline client deletes `k`.
      await f.storage.commit('u', [{ op: 'clear', mid: 2 }, del(3, 'k')])
      expect(await f.storage.changesSince('u', 1, 10)).toEqual({ changes: [{ rev: 2, clear: true }], rev: 3 })
      expect((await snapshotOf(f.storage, 'u')).clearRev).toBe(2)
    })

    it('clears a large user at once for every reader, also across a reopen', async () => {
      await using f = await setup()
      for (let i = 0; i < 5; i++) await f.storage.commit('u', Array.from({ length: 1000 }, (_, j) => store(j + 1, `k${i * 1000 + j}`, 'v')))
      await f.storage.commit('v', [store(1, 'k1', 'v')])
      const { head } = await f.storage.commit('u', [{ op: 'clear', mid: 1 }])
      const empty = {
        get: undefined, list: [], changes: { changes: [{ rev: head, clear: true }], rev: head },
        snapshot: { clearRev: head, records: [] }, exported: [],
      }
      expect(await reads(f.storage, 'u')).toEqual(empty)
      expect(await f.storage.users({ limit: 10 })).toContainEqual({ userId: 'u', head, keys: 0, bytes: 0 })
      const storage = await f.reopen()
      expect(await reads(storage, 'u')).toEqual(empty)
      expect((await storage.commit('u', [store(1, 'k1', 'new')])).head).toBe(head + 1)
      expect(await storage.list('u', { limit: 10 })).toEqual([{ key: 'k1', rev: head + 1, value: 'new' }])
      expect(await storage.get('v', 'k1')).toEqual({ key: 'k1', rev: 1, value: 'v' })
    })

    it('deletes a large user at once and whole, also across a reopen', async () => {
      await using f = await setup()
      for (let i = 0; i < 5; i++) await f.storage.commit('u', Array.from({ length: 1000 }, (_, j) => store(j + 1, `k${i * 1000 + j}`, 'v')), `c${i}`)
      expect(await f.storage.deleteUser('u')).toBe(true)
      const gone = async (storage: CubbyStorage): Promise<void> => {
        expect((await storage.users({ limit: 10 })).map((u) => u.userId)).not.toContain('u')
        const all = (await reads(storage, 'u')) as Record<string, unknown>
        expect(all).toMatchObject({ get: undefined, list: [], changes: { changes: [{ rev: 5000, clear: true }] }, snapshot: { records: [] } })
        expect(all.exported).toMatchObject({ code: 'NOT_FOUND' })
      }
      await gone(f.storage)
      const storage = await f.reopen()
      await gone(storage)
      // A later write starts an empty user; the old exactly-once records are gone.
      expect((await storage.commit('u', [store(1, 'k1', 'new')], 'c0')).results).toEqual([{ mid: 1, rev: 5001 }])
      expect(await storage.users({ limit: 10 })).toEqual([{ userId: 'u', head: 5001, keys: 1, bytes: expect.any(Number) }])
    })

    it('refuses a write authorised before a deletion that commits after it, and nothing else', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'k', '1')])
      const before = Date.now()
      // Queued behind the deletion, as a write whose token was checked just before it.
      const deleting = f.storage.deleteUser('u')
      const late = f.storage.commit('u', [store(2, 'k', '2'), { op: 'clear', mid: 3 }], 'c', { authorizedAt: before })
      await deleting
      expect((await late).results).toEqual([
        { mid: 2, error: expect.objectContaining({ code: 'UNAUTHORIZED' }) },
        { mid: 3, error: expect.objectContaining({ code: 'UNAUTHORIZED' }) },
      ])
      expect((await f.storage.users({ limit: 10 })).map((u) => u.userId)).not.toContain('u')
      expect(await f.storage.list('u', { limit: 10 })).toEqual([])
      expect(await f.storage.head('u')).toBe(1)
      // The mid was not applied: once authorised after the deletion, it goes through.
      expect((await f.storage.commit('u', [store(2, 'k', '3')], 'c', { authorizedAt: Date.now() + 1 })).results).toEqual([{ mid: 2, rev: 2 }])
      // Another user, and the server's own writes (no authorisation time), are not held to it.
      expect((await f.storage.commit('v', [store(1, 'k', '1')], 'c', { authorizedAt: before })).results).toEqual([{ mid: 1, rev: 1 }])
      expect((await f.storage.commit('u', [store(3, 'j', '1')])).results).toEqual([{ mid: 3, rev: 3 }])
    })

    it('resumes an import that did not finish, instead of refusing it', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2'), del(3, 'a'), store(4, 'c', '4')])
      const exported = await collect(f.storage.exportUser('u'))
      // The first attempt fails after its first record (as a crash would stop it).
      async function* broken(): AsyncGenerator<UserRecord> {
        yield { ...exported[0]!, userId: 'v' } as UserRecord
        yield exported[1]!
        throw new Error('the import stream broke')
      }
      await expect(f.storage.importUser('v', broken())).rejects.toThrow('the import stream broke')
      const storage = await f.reopen()
      const retry = (async function* () { yield* exported.map((r) => (r.type === 'user' ? { ...r, userId: 'v' } : r)) })()
      expect(await storage.importUser('v', retry)).toEqual({ head: 4, records: 3 })
      expect(await storage.list('v', { limit: 10 })).toEqual(await storage.list('u', { limit: 10 }))
      const [u, v] = await storage.users({ limit: 10 })
      expect({ ...v, userId: 'u' }).toEqual(u)
      await expect(storage.importUser('v', (async function* () { yield* exported })())).rejects.toMatchObject({ code: 'BAD_MESSAGE' })
    })
  })
}

import { encodeValue, type Mutation } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import type { CubbyStorage } from './CubbyStorage.js'
import type { StorageContractFixture, StorageContractOptions } from './storage.contract.js'
import type { UserRecord } from './UserRecord.js'

const store = (mid: number, key: string, value: unknown): Mutation => ({ op: 'store', mid, key, value: encodeValue(value) })

async function collect(records: AsyncIterable<UserRecord>): Promise<UserRecord[]> {
  const all: UserRecord[] = []
  for await (const r of records) all.push(r)
  return all
}

async function* renamed(records: AsyncIterable<UserRecord>, userId: string): AsyncGenerator<UserRecord> {
  for await (const r of records) yield r.type === 'user' ? { ...r, userId } : r
}

async function everything(storage: CubbyStorage, userId: string): Promise<unknown> {
  return { head: await storage.head(userId), changes: await storage.changesSince(userId, 0, 10_000), entries: await storage.list(userId, { limit: 10_000 }) }
}

/** The admin part of the storage contract: list users, export, import, delete. @internal */
export function runAdminContract(setup: (options?: StorageContractOptions) => Promise<StorageContractFixture>): void {
  describe('user admin', () => {
    it('lists users with their head and usage, page by page', async () => {
      await using f = await setup()
      for (const u of ['carol', 'a', 'bob']) await f.storage.commit(u, [store(1, 'k', 'v'), store(2, 'j', 'w')])
      const all = await f.storage.users({ limit: 10 })
      expect(all.map((u) => u.userId).sort()).toEqual(['a', 'bob', 'carol'])
      expect(all[0]).toEqual({ userId: all[0]!.userId, head: 2, keys: 2, bytes: expect.any(Number) })
      const first = await f.storage.users({ limit: 2 })
      const rest = await f.storage.users({ after: first.at(-1)!.userId, limit: 2 })
      expect([...first, ...rest]).toEqual(all)
    })

    it('exports a user with types, revs, tombstones and the last clear, and imports it back identically', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'gone', 1), { op: 'clear', mid: 2 }, store(3, 'date', new Date(5)), store(4, 'map', new Map([[1, new Set(['x'])]]))])
      await f.storage.commit('u', [store(5, 'gone', 2), { op: 'delete', mid: 6, key: 'gone' }, store(7, 'big', 10n ** 30n), store(8, 'date', { over: 'written' })])
      const records = await collect(f.storage.exportUser('u'))
      expect(records[0]).toEqual({ type: 'user', v: 1, userId: 'u', head: 8, clearRev: 2 })
      expect(records).toContainEqual({ type: 'deleted', key: 'gone', rev: 6 })
      const result = await f.storage.importUser('copy', renamed(f.storage.exportUser('u'), 'copy'))
      expect(result).toEqual({ head: 8, records: 4 })
      expect(await everything(f.storage, 'copy')).toEqual(await everything(f.storage, 'u'))
      expect((await f.storage.commit('copy', [store(1, 'next', 1)])).head).toBe(9)
      await expect(f.storage.importUser('copy', f.storage.exportUser('u'))).rejects.toMatchObject({ code: 'BAD_MESSAGE' })
    })

    it('exports the exactly-once records, so a write re-sent after an import is answered, not applied again', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'k', 'a'), store(2, 'k', 'b')], 'laptop')
      await f.storage.commit('u', [store(7, 'j', 'x')], 'phone')
      const records = await collect(f.storage.exportUser('u'))
      expect(records.filter((r) => r.type === 'client').sort((x, y) => (x.clientId < y.clientId ? -1 : 1))).toEqual([
        { type: 'client', clientId: 'laptop', mid: 2, rev: 2 }, { type: 'client', clientId: 'phone', mid: 7, rev: 3 },
      ])
      expect(await f.storage.importUser('copy', renamed(f.storage.exportUser('u'), 'copy'))).toEqual({ head: 3, records: 2 })
      // The laptop never got the ack of mid 2 and sends it again on the new storage: it is recognised.
      expect((await f.storage.commit('copy', [store(2, 'k', 'b')], 'laptop')).results).toEqual([{ mid: 2, rev: 2 }])
      expect((await f.storage.commit('copy', [store(3, 'k', 'c')], 'laptop')).results).toEqual([{ mid: 3, rev: 4 }])
      expect(await f.storage.head('copy')).toBe(4)
    })

    it('keeps the exactly-once record of a client that wrote during the import', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'k', 'old')], 'laptop')
      const records = await collect(f.storage.exportUser('u'))
      await f.storage.importUser('v', (async function* () {
        yield { ...records[0]!, userId: 'v' } as UserRecord
        expect((await f.storage.commit('v', [store(2, 'k', 'live')], 'laptop')).results).toEqual([{ mid: 2, rev: 2 }])
        yield* records.slice(1)
      })())
      expect((await f.storage.commit('v', [store(2, 'k', 'again')], 'laptop')).results).toEqual([{ mid: 2, rev: 2 }])
      expect((await f.storage.get('v', 'k'))?.value).toBe(encodeValue('live'))
    })

    it('keeps a write made during an import, which is newer than anything imported', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'k', 'old'), store(2, 'j', 'old')])
      const records = await collect(f.storage.exportUser('u'))
      const importing = f.storage.importUser('v', (async function* () {
        yield { ...records[0]!, userId: 'v' } as UserRecord
        // The header has reserved revs 1-2; a live write gets rev 3 and must survive the imported rev 1.
        expect((await f.storage.commit('v', [store(1, 'k', 'live')])).results).toEqual([{ mid: 1, rev: 3 }])
        yield* records.slice(1)
      })())
      await importing
      expect(await f.storage.get('v', 'k')).toEqual({ key: 'k', rev: 3, value: encodeValue('live') })
      expect((await f.storage.get('v', 'j'))?.rev).toBe(2)
    })

    it('deletes every trace of a user and nobody else\'s', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'k', 1), store(2, 'd', 1), { op: 'delete', mid: 3, key: 'd' }], 'client')
      await f.storage.commit('u\u0000', [store(1, 'k', 1)], 'client')
      expect(await f.storage.deleteUser('u')).toBe(true)
      // Nothing is left to read; the head stays, so a client that missed the deletion catches up through a clear.
      expect(await everything(f.storage, 'u')).toEqual({ head: 3, changes: { changes: [{ rev: 3, clear: true }], rev: 3 }, entries: [] })
      expect((await f.storage.users({ limit: 10 })).map((u) => u.userId)).toEqual(['u\u0000'])
      await expect(collect(f.storage.exportUser('u'))).rejects.toMatchObject({ code: 'NOT_FOUND' })
      // The exactly-once record went too: the same client id and mid apply afresh.
      expect((await f.storage.commit('u', [store(1, 'k', 2)], 'client')).results).toEqual([{ mid: 1, rev: 4 }])
      expect(await f.storage.users({ limit: 10 })).toContainEqual({ userId: 'u', head: 4, keys: 1, bytes: expect.any(Number) })
      expect(await f.storage.deleteUser('nobody')).toBe(false)
      expect((await f.storage.get('u\u0000', 'k'))?.rev).toBe(1)
      const storage = await f.reopen()
      expect(await storage.head('u')).toBe(4)
      expect(await storage.list('u', { limit: 10 })).toEqual([{ key: 'k', rev: 4, value: encodeValue(2) }])
    })

    it('records when a user was deleted, durably, until an import restores the user', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'k', 1)])
      await f.storage.commit('u\u0000', [store(1, 'k', 1)])
      const exported = await collect(f.storage.exportUser('u'))
      expect(await f.storage.deletedAt('u')).toBeUndefined()
      const before = Math.floor(Date.now() / 1000)
      await f.storage.deleteUser('u')
      const at = await f.storage.deletedAt('u')
      expect(at).toBeGreaterThanOrEqual(before)
      expect(at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
      // Nobody else is marked, the marker is no user of its own, and later writes of the user keep it.
      expect(await f.storage.deletedAt('u\u0000')).toBeUndefined()
      expect(await f.storage.deletedAt('nobody')).toBeUndefined()
      await f.storage.commit('u', [store(1, 'k', 2), { op: 'clear', mid: 2 }])
      expect((await f.storage.users({ limit: 10 })).map((u) => u.userId).sort()).toEqual(['u', 'u\u0000'])
      await f.storage.deleteUser('u')
      expect((await f.storage.users({ limit: 10 })).map((u) => u.userId)).toEqual(['u\u0000'])
      let storage = await f.reopen()
      expect(await storage.deletedAt('u')).toBeGreaterThanOrEqual(at!)
      // A user without data can be marked too (their tokens are revoked all the same).
      expect(await storage.deleteUser('never-was')).toBe(false)
      expect(await storage.deletedAt('never-was')).toBeGreaterThanOrEqual(before)
      await storage.importUser('u', (async function* () { yield* exported })())
      expect(await storage.deletedAt('u')).toBeUndefined()
      storage = await f.reopen()
      expect(await storage.deletedAt('u')).toBeUndefined()
      expect((await storage.get('u', 'k'))?.rev).toBe(1)
    })
  })
}

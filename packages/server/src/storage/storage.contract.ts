import { compareKeys, type Change, type Mutation } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import { CATCH_UP_PAGE_BYTES, type CommitResult, type CubbyStorage } from './CubbyStorage.js'
import { runIsolationContract } from './storageIsolation.contract.js'
import { runQuotaContract } from './storageQuota.contract.js'
import { runConditionsContract } from './storageConditions.contract.js'
import { runAdminContract } from './storageAdmin.contract.js'
import { runDeletionContract } from './storageDeletion.contract.js'
import { runDevicesContract } from './storageDevices.contract.js'
import { runMergeContract } from './storageMerge.contract.js'
import { runExpiryContract } from './storageExpiry.contract.js'
import type { UserQuota } from './UserQuota.js'

/** Options the contract asks a storage to be made with. */
export interface StorageContractOptions {
  quota?: Partial<UserQuota>
}

/** What a storage implementation's test gives the contract suite. */
export interface StorageContractFixture {
  storage: CubbyStorage
  /** Closes the storage and its database and opens a new storage on the same data. */
  reopen(): Promise<CubbyStorage>
  [Symbol.asyncDispose](): Promise<void>
}

const store = (mid: number, key: string, value: string): Mutation => ({ op: 'store', mid, key, value })
const del = (mid: number, key: string): Mutation => ({ op: 'delete', mid, key })
const clear = (mid: number): Mutation => ({ op: 'clear', mid })
const keysOf = (entries: Array<{ key: string }>): string[] => entries.map((e) => e.key)

/**
 * The behaviour every {@link CubbyStorage} must have; run it from the implementation's test file.
 *
 * @example
 * ```ts
 * runStorageContract('createLevelStorage', async () => ({ storage, reopen, [Symbol.asyncDispose]: cleanup }))
 * ```
 */
export function runStorageContract(name: string, setup: (options?: StorageContractOptions) => Promise<StorageContractFixture>): void {
  describe(`${name} (storage contract)`, () => {
    it('starts every user empty at rev 0', async () => {
      await using f = await setup()
      expect(await f.storage.head('u')).toBe(0)
      expect(await f.storage.get('u', 'k')).toBeUndefined()
      expect(await f.storage.list('u', { limit: 10 })).toEqual([])
      expect(await f.storage.changesSince('u', 0, 10)).toEqual({ changes: [], rev: 0 })
    })

    runIsolationContract(setup)
    runQuotaContract(setup)
    runConditionsContract(setup)
    runAdminContract(setup)
    runDeletionContract(setup)
    runDevicesContract(setup)
    runMergeContract(setup)
    runExpiryContract(setup)

    it('assigns consecutive revs per user and reports results, changes and head', async () => {
      await using f = await setup()
      const r = await f.storage.commit('u', [store(1, 'a', '1'), del(2, 'b'), clear(3)])
      expect(r).toEqual({
        results: [{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }, { mid: 3, rev: 3 }],
        changes: [{ rev: 1, key: 'a', value: '1' }, { rev: 2, key: 'b', deleted: true }, { rev: 3, clear: true }],
        head: 3,
      })
      expect((await f.storage.commit('v', [store(1, 'a', '2')])).head).toBe(1)
      expect(await f.storage.head('u')).toBe(3)
    })

    it('returns the latest value of a key with its rev', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'k', '"old"'), store(2, 'k', '"new"')])
      expect(await f.storage.get('u', 'k')).toEqual({ key: 'k', rev: 2, value: '"new"' })
    })

    it('keeps the call order of commits that are not awaited one by one', async () => {
      await using f = await setup()
      const all = await Promise.all(Array.from({ length: 50 }, (_, i) => f.storage.commit('u', [store(1, 'k', String(i))])))
      expect(all.map((r) => r.head)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
      expect(await f.storage.get('u', 'k')).toEqual({ key: 'k', rev: 50, value: '49' })
    })

    it('commits many users at once without mixing them up', async () => {
      await using f = await setup()
      const users = Array.from({ length: 30 }, (_, i) => `user${i}`)
      await Promise.all(users.flatMap((u) => [f.storage.commit(u, [store(1, 'k', '1')]), f.storage.commit(u, [store(1, 'j', '2')])]))
      for (const u of users) expect(await f.storage.list(u, { limit: 10 })).toEqual([
        { key: 'j', rev: 2, value: '2' }, { key: 'k', rev: 1, value: '1' },
      ])
    })

    it('lists keys in code-point order', async () => {
      await using f = await setup()
      const keys = ['b', 'a', '\u{1F600}', '\uFFFF', 'a\x00', 'A', 'é', '\x00']
      await f.storage.commit('u', keys.map((k, i) => store(i + 1, k, '0')))
      expect(keysOf(await f.storage.list('u', { limit: 100 }))).toEqual([...keys].sort(compareKeys))
    })

    it('pages through keys with prefix, after and limit', async () => {
      await using f = await setup()
      const keys = ['a', 'a/1', 'a/2', 'a/3', 'ab', 'b', '\u{10FFFF}', '\u{10FFFF}x']
      await f.storage.commit('u', keys.map((k, i) => store(i + 1, k, '0')))
      const list = async (o: { prefix?: string; after?: string; limit: number }): Promise<string[]> => keysOf(await f.storage.list('u', o))
      expect(await list({ prefix: 'a/', limit: 10 })).toEqual(['a/1', 'a/2', 'a/3'])
      expect(await list({ prefix: 'a/', after: 'a/1', limit: 1 })).toEqual(['a/2'])
      expect(await list({ prefix: 'a/', after: 'a', limit: 10 })).toEqual(['a/1', 'a/2', 'a/3'])
      expect(await list({ prefix: 'a/', after: 'a/3', limit: 10 })).toEqual([])
      expect(await list({ after: 'a/3', limit: 2 })).toEqual(['ab', 'b'])
      expect(await list({ prefix: '\u{10FFFF}', limit: 10 })).toEqual(['\u{10FFFF}', '\u{10FFFF}x'])
      expect(await list({ prefix: 'zz', limit: 10 })).toEqual([])
    })

    it('hides deleted keys, gives every delete a rev, and a tombstone only to a key that had a value', async () => {
      await using f = await setup()
      const r = await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2'), del(3, 'a'), del(4, 'never'), del(5, 'a')])
      expect(r.changes.slice(2)).toEqual([{ rev: 3, key: 'a', deleted: true }, { rev: 4, key: 'never', deleted: true }, { rev: 5, key: 'a', deleted: true }])
      expect(await f.storage.get('u', 'a')).toBeUndefined()
      expect(keysOf(await f.storage.list('u', { limit: 1 }))).toEqual(['b'])
      expect(await f.storage.changesSince('u', 0, 10)).toEqual({ changes: [{ rev: 2, key: 'b', value: '2' }, { rev: 3, key: 'a', deleted: true }], rev: 5 })
    })

    it('reports only the latest change of each key, in rev order and in pages', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2'), store(3, 'a', '3'), store(4, 'c', '4')])
      expect(await f.storage.changesSince('u', 0, 2)).toEqual({ changes: [{ rev: 2, key: 'b', value: '2' }, { rev: 3, key: 'a', value: '3' }], rev: 3 })
      expect(await f.storage.changesSince('u', 3, 2)).toEqual({ changes: [{ rev: 4, key: 'c', value: '4' }], rev: 4 })
      expect(await f.storage.changesSince('u', 4, 2)).toEqual({ changes: [], rev: 4 })
      expect(await f.storage.changesSince('u', 1, 10)).toEqual(await f.storage.changesSince('u', 0, 10))
    })

    it('clears every key of a user and logs a single clear', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'a', '1'), del(2, 'b'), clear(3), store(4, 'c', '4'), clear(5), store(6, 'd', '6')])
      expect(keysOf(await f.storage.list('u', { limit: 10 }))).toEqual(['d'])
      expect(await f.storage.get('u', 'c')).toBeUndefined()
      expect(await f.storage.changesSince('u', 0, 10)).toEqual({ changes: [{ rev: 5, clear: true }, { rev: 6, key: 'd', value: '6' }], rev: 6 })
      expect(await f.storage.changesSince('u', 5, 10)).toEqual({ changes: [{ rev: 6, key: 'd', value: '6' }], rev: 6 })
      await f.storage.commit('u', [clear(1)])
      expect(await f.storage.changesSince('u', 0, 10)).toEqual({ changes: [{ rev: 7, clear: true }], rev: 7 })
    })

    it('clears keys written earlier in the same group commit', async () => {
      await using f = await setup()
      const [, cleared, after] = await Promise.all([
        f.storage.commit('u', [store(1, 'a', '1')]), f.storage.commit('u', [clear(1)]), f.storage.commit('u', [store(1, 'b', '2')]),
      ])
      expect([cleared.head, after.head]).toEqual([2, 3])
      expect(keysOf(await f.storage.list('u', { limit: 10 }))).toEqual(['b'])
    })

    it('applies each (clientId, mid) at most once', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2')], 'c1')
      const retry = await f.storage.commit('u', [store(1, 'a', 'x'), store(2, 'b', 'x'), store(3, 'c', '3')], 'c1')
      expect(retry.results).toEqual([{ mid: 1, rev: 2 }, { mid: 2, rev: 2 }, { mid: 3, rev: 3 }])
      expect(retry.changes).toEqual([{ rev: 3, key: 'c', value: '3' }])
      expect((await f.storage.get('u', 'a'))?.value).toBe('1')
      expect((await f.storage.commit('u', [store(1, 'a', 'y')], 'c2')).results).toEqual([{ mid: 1, rev: 4 }])
      expect((await f.storage.commit('v', [store(1, 'a', 'z')], 'c1')).results).toEqual([{ mid: 1, rev: 1 }])
    })

    it('applies a mid once even when the retry joins the same group commit', async () => {
      await using f = await setup()
      const [a, b] = await Promise.all([f.storage.commit('u', [store(5, 'k', '1')], 'c'), f.storage.commit('u', [store(5, 'k', '2')], 'c')])
      expect([a.results, b.results, b.changes]).toEqual([[{ mid: 5, rev: 1 }], [{ mid: 5, rev: 1 }], []])
    })

    it('keeps data, heads and exactly-once records across a reopen', async () => {
      const f = await setup()
      await f.storage.commit('u', [store(1, 'a', '1'), clear(2), store(3, 'b', '3')], 'c1')
      const storage = await f.reopen()
      await using _ = f
      expect(await storage.head('u')).toBe(3)
      expect(await storage.list('u', { limit: 10 })).toEqual([{ key: 'b', rev: 3, value: '3' }])
      expect((await storage.commit('u', [store(3, 'b', 'x'), store(4, 'c', '4')], 'c1')).results).toEqual([{ mid: 3, rev: 3 }, { mid: 4, rev: 4 }])
      expect((await storage.changesSince('u', 0, 10)).changes).toEqual([{ rev: 2, clear: true }, { rev: 3, key: 'b', value: '3' }, { rev: 4, key: 'c', value: '4' }])
    })

    it('gives a snapshot of every record, in key order, that is exactly the state at its head despite concurrent commits', async () => {
      await using f = await setup()
      await f.storage.commit('u', Array.from({ length: 300 }, (_, i) => store(i + 1, `k${i}`, `v${i}`)))
      const write = (i: number): Promise<CommitResult> => f.storage.commit('u', [
        i === 20 ? clear(1) : i % 4 === 0 ? del(1, `k${i * 3}`) : store(1, `k${i * 7}`, `w${i}`),
      ])
      // Taken between commits queued before and after it: it holds exactly the first 30.
      const writes = Array.from({ length: 30 }, (_, i) => write(i))
      const snapshotting = f.storage.snapshot('u')
      writes.push(...Array.from({ length: 30 }, (_, i) => write(30 + i)))
      const snapshot = await snapshotting
      const records: Change[] = []
      try {
        for (let page = await snapshot.next(64), n = 0; page.length > 0 && n < 100; page = await snapshot.next(64), n++) records.push(...page)
      } finally {
        await snapshot.close()
      }
      // Replaying every change up to the snapshot's head gives the same records.
      const history = [{ rev: 0, changes: [] as Change[] }, ...(await Promise.all(writes))].flatMap((r) => r.changes)
      const expected = new Map<string, Change>()
      let clearRev = 0
      for (const c of [...Array.from({ length: 300 }, (_, i): Change => ({ rev: i + 1, key: `k${i}`, value: `v${i}` })), ...history]) {
        if (c.rev > snapshot.head) continue
        if ('clear' in c) {
          expected.clear()
          clearRev = c.rev
        } else if (!('deleted' in c) || (expected.has(c.key) && !('deleted' in expected.get(c.key)!))) expected.set(c.key, c)
        // (A delete of a key without a live value leaves no record.)
      }
      expect(snapshot.clearRev).toBe(clearRev)
      expect(keysOf(records as Array<{ key: string }>)).toEqual([...expected.keys()].sort(compareKeys))
      expect(new Map(records.map((c) => ['key' in c ? c.key : '', c]))).toEqual(expected)
      expect(snapshot.head).toBe(330)
    })

    it('bounds each catch-up read (log page, snapshot page) by bytes as well as by count', async () => {
      await using f = await setup()
      const big = 'x'.repeat(256 * 1024)
      const count = 4 * (CATCH_UP_PAGE_BYTES / big.length) + 2
      for (let i = 1; i <= count; i++) await f.storage.commit('u', [store(i, `k${i}`, big)])
      const bytes = (changes: Change[]): number => changes.reduce((n, c) => n + ('value' in c ? c.value.length : 0), 0)
      const revs: number[] = []
      for (let rev = 0, reads = 0; rev < count; reads++) {
        expect(reads).toBeLessThan(count)
        const page = await f.storage.changesSince('u', rev, 500)
        // At least one change per read, and at most one value past the bound.
        expect(page.changes.length).toBeGreaterThan(0)
        expect(bytes(page.changes)).toBeLessThanOrEqual(CATCH_UP_PAGE_BYTES + big.length)
        revs.push(...page.changes.map((c) => c.rev))
        rev = page.rev
      }
      expect(revs).toEqual(Array.from({ length: count }, (_, i) => i + 1))
      const snapshot = await f.storage.snapshot('u')
      const keys: string[] = []
      try {
        for (let page = await snapshot.next(500); page.length > 0; page = await snapshot.next(500)) {
          expect(bytes(page)).toBeLessThanOrEqual(CATCH_UP_PAGE_BYTES + big.length)
          keys.push(...page.map((c) => ('key' in c ? c.key : '')))
        }
      } finally {
        await snapshot.close()
      }
      expect(keys.sort()).toEqual(Array.from({ length: count }, (_, i) => `k${i + 1}`).sort())
    })

    it('rejects malformed arguments alone, without failing other commits', async () => {
      await using f = await setup()
      const good = f.storage.commit('u', [store(1, 'a', '1')])
      await expect(f.storage.commit('', [store(1, 'a', '1')])).rejects.toThrow(TypeError)
      await expect(f.storage.commit('u', [{ op: 'store', mid: 0, key: 'a', value: '1' }])).rejects.toThrow(TypeError)
      await expect(f.storage.commit('u', [store(1, '', '1')])).rejects.toThrow(TypeError)
      expect((await good).head).toBe(1)
    })
  })
}

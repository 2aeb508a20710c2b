import { describe, expect, it } from 'vitest'
import type { Mutation } from '@cubby/protocol'
import type { StorageContractFixture, StorageContractOptions } from './storage.contract.js'
import { RECORD_OVERHEAD_BYTES } from './UserQuota.js'

const store = (mid: number, key: string, value: string): Mutation => ({ op: 'store', mid, key, value })
const quotaError = { mid: expect.any(Number), error: { code: 'QUOTA_EXCEEDED', message: expect.any(String) } }

/** The quota part of the storage contract: a write past the quota is rejected whole, in the same atomic step. @internal */
export function runQuotaContract(setup: (options?: StorageContractOptions) => Promise<StorageContractFixture>): void {
  describe('quota', () => {
    it('rejects a store past the key quota alone: no rev, no record, no change, the rest applies', async () => {
      await using f = await setup({ quota: { maxKeys: 2 } })
      const r = await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2'), store(3, 'c', '3'), store(4, 'a', '4')], 'c1')
      expect(r.results).toEqual([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }, { ...quotaError, mid: 3 }, { mid: 4, rev: 3 }])
      expect(r.changes.map((c) => c.rev)).toEqual([1, 2, 3])
      expect(await f.storage.get('u', 'c')).toBeUndefined()
      expect((await f.storage.changesSince('u', 0, 10)).changes.some((c) => 'key' in c && c.key === 'c')).toBe(false)
      expect(await f.storage.head('u')).toBe(3)
      expect((await f.storage.commit('v', [store(1, 'c', '3')])).results).toEqual([{ mid: 1, rev: 1 }])
    })

    it('counts keys and values in bytes, tombstones included, and lets writes that shrink usage through', async () => {
      const room = 2 * (RECORD_OVERHEAD_BYTES + 1 + 10)
      await using f = await setup({ quota: { maxBytes: room } })
      const ten = '0123456789'
      expect((await f.storage.commit('u', [store(1, 'a', ten), store(2, 'b', ten)])).head).toBe(2)
      expect((await f.storage.commit('u', [store(3, 'c', '1')])).results).toEqual([{ ...quotaError, mid: 3 }])
      expect((await f.storage.commit('u', [store(4, 'a', `${ten}x`)])).results).toEqual([{ ...quotaError, mid: 4 }])
      expect((await f.storage.commit('u', [store(5, 'a', '1')])).results).toEqual([{ mid: 5, rev: 3 }])
      // A delete leaves a tombstone that still counts its key.
      expect((await f.storage.commit('u', [{ op: 'delete', mid: 6, key: 'b' }])).results).toEqual([{ mid: 6, rev: 4 }])
      // A delete of a key without a live value stores nothing, so it needs no room.
      expect((await f.storage.commit('u', [{ op: 'delete', mid: 7, key: 'never' }, { op: 'delete', mid: 8, key: 'b' }])).results).toEqual([{ mid: 7, rev: 5 }, { mid: 8, rev: 6 }])
      expect((await f.storage.users({ limit: 1 }))[0]).toMatchObject({ keys: 1 })
      expect((await f.storage.commit('u', [{ op: 'delete', mid: 9, key: 'a' }])).results).toEqual([{ mid: 9, rev: 7 }])
    })

    it('frees everything on clear', async () => {
      await using f = await setup({ quota: { maxKeys: 1 } })
      await f.storage.commit('u', [store(1, 'a', '1')])
      expect((await f.storage.commit('u', [store(2, 'b', '1')])).results).toEqual([{ ...quotaError, mid: 2 }])
      const r = await f.storage.commit('u', [{ op: 'clear', mid: 3 }, store(4, 'b', '1')])
      expect(r.results).toEqual([{ mid: 3, rev: 2 }, { mid: 4, rev: 3 }])
    })

    it('keeps a rejected mid unapplied, so the same mid goes through once there is room', async () => {
      await using f = await setup({ quota: { maxKeys: 1 } })
      await f.storage.commit('u', [store(1, 'a', '1')], 'c')
      expect((await f.storage.commit('u', [store(2, 'b', '1')], 'c')).results).toEqual([{ ...quotaError, mid: 2 }])
      await f.storage.commit('u', [{ op: 'delete', mid: 1, key: 'a' }], 'other')
      expect((await f.storage.commit('u', [store(2, 'b', '1')], 'c')).results).toEqual([{ mid: 2, rev: 3 }])
    })

    it('judges requests of one group commit against each other', async () => {
      await using f = await setup({ quota: { maxKeys: 3 } })
      const all = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => f.storage.commit('u', [store(1, k, '1')])))
      expect(all.map((r) => 'error' in r.results[0]! ? 'over' : 'ok')).toEqual(['ok', 'ok', 'ok', 'over', 'over'])
    })

    it('keeps the usage across a reopen', async () => {
      await using f = await setup({ quota: { maxKeys: 2 } })
      await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '1')])
      const storage = await f.reopen()
      expect((await storage.commit('u', [store(3, 'c', '1')])).results).toEqual([{ ...quotaError, mid: 3 }])
      expect((await storage.commit('u', [store(4, 'a', '2')])).results).toEqual([{ mid: 4, rev: 3 }])
    })
  })
}

import { describe, expect, it } from 'vitest'
import type { Mutation, WriteCondition } from '@cubby/protocol'
import type { StorageContractFixture, StorageContractOptions } from './storage.contract.js'

const store = (mid: number, key: string, value: string, condition?: WriteCondition): Mutation =>
  ({ op: 'store', mid, key, value, ...(condition !== undefined && { if: condition }) })
const conflict = (mid: number, rev: number): unknown => ({ mid, error: { code: 'CONFLICT', message: expect.any(String), rev } })

/**
 * The conditions part of the storage contract: `if` is checked against the key's live version in the commit's own
 * atomic step, a conflicted mid is remembered for exactly-once, and an atomic commit applies all or nothing.
 * @internal
 */
export function runConditionsContract(setup: (options?: StorageContractOptions) => Promise<StorageContractFixture>): void {
  describe('conditions', () => {
    it('applies a write whose condition holds and rejects one whose does not, with the key\'s version', async () => {
      await using f = await setup()
      const r = await f.storage.commit('u', [
        store(1, 'a', '1', { absent: true }), store(2, 'a', '2', { absent: true }), store(3, 'a', '3', { rev: 1 }),
        store(4, 'a', '4', { rev: 1 }), { op: 'delete', mid: 5, key: 'a', if: { rev: 2 } }, store(6, 'a', '6', { absent: true }),
      ], 'c1')
      expect(r.results).toEqual([{ mid: 1, rev: 1 }, conflict(2, 1), { mid: 3, rev: 2 }, conflict(4, 2), { mid: 5, rev: 3 }, { mid: 6, rev: 4 }])
      expect(r.changes.map((c) => c.rev)).toEqual([1, 2, 3, 4])
      expect(await f.storage.get('u', 'a')).toEqual({ key: 'a', rev: 4, value: '6' })
      // A clear makes every key absent.
      await f.storage.commit('u', [{ op: 'clear', mid: 7 }], 'c1')
      expect((await f.storage.commit('u', [store(8, 'a', '8', { absent: true })], 'c1')).results).toEqual([{ mid: 8, rev: 6 }])
    })

    it('answers a retried mid with its first verdict: a success is not checked again, a conflict stays one', async () => {
      await using f = await setup()
      const first = await f.storage.commit('u', [store(1, 'a', '1', { absent: true }), store(2, 'a', '2', { absent: true })], 'c1')
      expect(first.results).toEqual([{ mid: 1, rev: 1 }, conflict(2, 1)])
      const again = await f.storage.commit('u', [store(1, 'a', '1', { absent: true }), store(2, 'a', '2', { absent: true })], 'c1')
      expect(again.results).toEqual([{ mid: 1, rev: 1 }, conflict(2, 1)])
      expect(again.changes).toEqual([])
      expect(await f.storage.head('u')).toBe(1)
      // Without a client id nothing is remembered: each call is checked afresh.
      expect((await f.storage.commit('u', [store(1, 'b', '1', { absent: true })])).results).toEqual([{ mid: 1, rev: 2 }])
    })

    it('applies an atomic commit whole, checking its conditions together against the state before it', async () => {
      await using f = await setup()
      await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '1')], 'c1')
      const failed = await f.storage.commit('u', [store(3, 'a', '2', { rev: 1 }), store(4, 'b', '2', { rev: 9 }), store(5, 'c', '2')], 'c1', { atomic: true })
      expect(failed.results).toEqual([conflict(3, 1), conflict(4, 2), conflict(5, 0)])
      expect(failed.changes).toEqual([])
      expect(await f.storage.head('u')).toBe(2)
      // Both conditions are on the state before the batch, not after its own first write.
      const ok = await f.storage.commit('u', [store(6, 'a', '2', { rev: 1 }), store(7, 'a', '3', { rev: 1 }), store(8, 'c', '1', { absent: true })], 'c1', { atomic: true })
      expect(ok.results).toEqual([{ mid: 6, rev: 3 }, { mid: 7, rev: 4 }, { mid: 8, rev: 5 }])
      // A retry of the failed batch still fails; of the applied one, still succeeds.
      expect((await f.storage.commit('u', [store(3, 'a', '2', { rev: 1 })], 'c1', { atomic: true })).results).toEqual([conflict(3, 4)])
    })

    it('applies none of an atomic commit when one write is over the quota', async () => {
      await using f = await setup({ quota: { maxKeys: 2 } })
      const r = await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '1'), store(3, 'c', '1')], 'c1', { atomic: true })
      expect(r.results.map((x) => ('error' in x ? x.error.code : x.rev))).toEqual(['QUOTA_EXCEEDED', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED'])
      expect(await f.storage.head('u')).toBe(0)
      expect(await f.storage.get('u', 'a')).toBeUndefined()
      // The mids stay unapplied: the same mids go through once there is room.
      expect((await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '1')], 'c1', { atomic: true })).results).toEqual([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }])
    })
  })
}

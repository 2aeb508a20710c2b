import { describe, expect, it } from 'vitest'
import type { StorageContractFixture, StorageContractOptions } from './storage.contract.js'

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const all: T[] = []
  for await (const x of it) all.push(x)
  return all
}

/**
 * The expiry part of the storage contract: a value past its `expiresAt` is gone from every read before any sweep
 * deleted it (how and when a storage sweeps is its own test's matter).
 * @internal
 */
export function runExpiryContract(setup: (options?: StorageContractOptions) => Promise<StorageContractFixture>): void {
  describe('expiry', () => {
    it('hides an expired value from get, list, catch-up, snapshot and export before any sweep', async () => {
      await using f = await setup()
      const { storage } = f
      const past = Date.now() - 1
      const future = Date.now() + 3_600_000
      const { changes } = await storage.commit('u', [
        { op: 'store', mid: 1, key: 'gone', value: '1', expiresAt: past },
        { op: 'store', mid: 2, key: 'kept', value: '2', expiresAt: future },
      ])
      expect(changes).toEqual([{ rev: 1, key: 'gone', value: '1', expiresAt: past }, { rev: 2, key: 'kept', value: '2', expiresAt: future }])
      expect(await storage.get('u', 'gone')).toBeUndefined()
      expect(await storage.get('u', 'kept')).toEqual({ key: 'kept', rev: 2, value: '2', expiresAt: future })
      expect(await storage.list('u', { limit: 10 })).toEqual([{ key: 'kept', rev: 2, value: '2', expiresAt: future }])
      expect((await storage.changesSince('u', 0, 10)).changes).toEqual([
        { rev: 1, key: 'gone', deleted: true }, { rev: 2, key: 'kept', value: '2', expiresAt: future },
      ])
      const snapshot = await storage.snapshot('u')
      expect(await snapshot.next(10)).toEqual([{ rev: 1, key: 'gone', deleted: true }, { rev: 2, key: 'kept', value: '2', expiresAt: future }])
      await snapshot.close()
      expect((await collect(storage.exportUser('u'))).slice(1)).toEqual([
        { type: 'deleted', key: 'gone', rev: 1 }, { type: 'value', key: 'kept', rev: 2, value: '2', expiresAt: future },
      ])
    })
  })
}

import { describe, expect, it } from 'vitest'
import type { StorageContractFixture } from './storage.contract.js'

/** User ids made to collide with a naive `${userId}/${key}` or length-prefixed layout. */
const HOSTILE_USERS = ['a', 'a\x00b', 'a\x00', 'a:', '1:a', '2:a', 'a/', '..', '!', '\xff', 'a\x01', '\u{10FFFF}', 'ab']
/** Keys with the separators a layout might use. */
const HOSTILE_KEYS = ['k', '\x00', 'a\x00b', '/', '..', '%2F', '\xff', '\u{10FFFF}', ':', '1:a\x00k']

/** The namespace part of the storage contract: no user ever sees another user's records. @internal */
export function runIsolationContract(setup: () => Promise<StorageContractFixture>): void {
  describe('namespace isolation', () => {
    it('keeps users apart whatever characters their ids and keys hold', async () => {
      await using f = await setup()
      await Promise.all(HOSTILE_USERS.map((u) =>
        f.storage.commit(u, HOSTILE_KEYS.map((key, i) => ({ op: 'store', mid: i + 1, key, value: JSON.stringify(u) })))))
      for (const u of HOSTILE_USERS) {
        const entries = await f.storage.list(u, { limit: 1000 })
        expect(entries).toHaveLength(HOSTILE_KEYS.length)
        expect(new Set(entries.map((e) => e.value))).toEqual(new Set([JSON.stringify(u)]))
        const { changes } = await f.storage.changesSince(u, 0, 1000)
        expect(changes).toHaveLength(HOSTILE_KEYS.length)
        expect(await f.storage.head(u)).toBe(HOSTILE_KEYS.length)
        expect((await f.storage.get(u, 'a\x00b'))?.value).toBe(JSON.stringify(u))
      }
    })

    it('lists by key prefix within one user only', async () => {
      await using f = await setup()
      await f.storage.commit('a', [{ op: 'store', mid: 1, key: 'a', value: '1' }])
      await f.storage.commit('a\x00b', [{ op: 'store', mid: 1, key: 'a2', value: '2' }])
      await f.storage.commit('1:a', [{ op: 'store', mid: 1, key: 'a3', value: '3' }])
      await f.storage.commit('a:', [{ op: 'store', mid: 1, key: 'a4', value: '4' }])
      expect((await f.storage.list('a', { prefix: 'a', limit: 100 })).map((e) => e.key)).toEqual(['a'])
      expect((await f.storage.list('a', { prefix: '\x00', limit: 100 }))).toEqual([])
      expect((await f.storage.list('a', { after: 'a', limit: 100 }))).toEqual([])
    })

    it('clears one user without touching users whose ids share a prefix', async () => {
      await using f = await setup()
      for (const u of ['a', 'a\x00', 'a\x00b', 'ab']) await f.storage.commit(u, [{ op: 'store', mid: 1, key: 'k', value: '1' }])
      await f.storage.commit('a', [{ op: 'clear', mid: 2 }])
      expect(await f.storage.list('a', { limit: 10 })).toEqual([])
      for (const u of ['a\x00', 'a\x00b', 'ab']) {
        expect(await f.storage.list(u, { limit: 10 })).toEqual([{ key: 'k', rev: 1, value: '1' }])
        expect((await f.storage.changesSince(u, 0, 10)).changes).toEqual([{ rev: 1, key: 'k', value: '1' }])
      }
    })

    it('keeps exactly-once records per user', async () => {
      await using f = await setup()
      await f.storage.commit('a', [{ op: 'store', mid: 7, key: 'k', value: '1' }], 'c')
      const other = await f.storage.commit('a\x00c', [{ op: 'store', mid: 7, key: 'k', value: '1' }], 'c')
      expect(other.changes).toHaveLength(1)
    })
  })
}

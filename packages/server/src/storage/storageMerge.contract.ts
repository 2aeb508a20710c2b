import { describe, expect, it } from 'vitest'
import { isCubbyError, type Mutation } from '@cubby/protocol'
import type { StorageContractFixture, StorageContractOptions } from './storage.contract.js'

const store = (mid: number, key: string, value: string): Mutation => ({ op: 'store', mid, key, value })
const del = (mid: number, key: string): Mutation => ({ op: 'delete', mid, key })
const valuesOf = async (f: StorageContractFixture, userId: string): Promise<Record<string, string>> =>
  Object.fromEntries((await f.storage.list(userId, { limit: 100 })).map((e) => [e.key, e.value]))

/** The account merge part of the storage contract: one atomic step, conflicts by policy, exactly-once carried over. @internal */
export function runMergeContract(setup: (options?: StorageContractOptions) => Promise<StorageContractFixture>): void {
  describe('mergeUser', () => {
    it('copies the anonymous keys into the account with new revs, keeps the account\'s value on a conflict, and deletes the anonymous user', async () => {
      await using f = await setup()
      await f.storage.commit('acct', [store(1, 'shared', '"account"'), store(2, 'mine', '1')])
      await f.storage.commit('anon_a', [store(1, 'shared', '"anon"'), store(2, 'b', '2'), store(3, 'a', '3'), store(4, 'gone', '4'), del(5, 'gone')])
      const r = await f.storage.mergeUser('anon_a', 'acct', { prefer: 'account' })
      expect(r).toEqual({
        changes: [{ rev: 3, key: 'a', value: '3' }, { rev: 4, key: 'b', value: '2' }], head: 4, conflicts: ['shared'], clients: 0,
      })
      expect(await valuesOf(f, 'acct')).toEqual({ a: '3', b: '2', mine: '1', shared: '"account"' })
      expect((await f.storage.changesSince('acct', 2, 10)).changes).toEqual(r.changes)
      expect(await f.storage.head('acct')).toBe(4)
      expect(await f.storage.list('anon_a', { limit: 10 })).toEqual([])
      expect(await f.storage.deletedAt('anon_a')).toEqual(expect.any(Number))
      // The anonymous user's revisions go on from where they were, as after any deletion.
      expect(await f.storage.head('anon_a')).toBe(5)
      expect((await f.storage.users({ limit: 10 })).map((u) => u.userId)).toEqual(['acct'])
    })

    it('takes the anonymous value on a conflict with prefer: anonymous, and fills a key the account had deleted', async () => {
      await using f = await setup()
      await f.storage.commit('acct', [store(1, 'shared', '"account"'), store(2, 'dead', '1'), del(3, 'dead')])
      await f.storage.commit('anon_a', [store(1, 'shared', '"anon"'), store(2, 'dead', '"back"')])
      const r = await f.storage.mergeUser('anon_a', 'acct', { prefer: 'anonymous' })
      expect(r.conflicts).toEqual(['shared'])
      expect(r.changes).toEqual([{ rev: 4, key: 'dead', value: '"back"' }, { rev: 5, key: 'shared', value: '"anon"' }])
      expect(await valuesOf(f, 'acct')).toEqual({ dead: '"back"', shared: '"anon"' })
      expect((await f.storage.users({ limit: 10 }))[0]).toMatchObject({ userId: 'acct', keys: 2 })
    })

    it('moves the exactly-once records: a repeated mid is acknowledged under the account, the next one applies once', async () => {
      await using f = await setup()
      await f.storage.commit('acct', [store(1, 'x', '1')], 'laptop')
      await f.storage.commit('anon_a', [store(1, 'k', '"v1"'), store(2, 'k', '"v2"')], 'phone')
      const r = await f.storage.mergeUser('anon_a', 'acct', { prefer: 'account' })
      expect(r.clients).toBe(1)
      // The phone re-sends its last two writes (their acks were lost) and a new one, now as the account.
      const replay = await f.storage.commit('acct', [store(1, 'k', '"v1"'), store(2, 'k', '"v2"'), store(3, 'k', '"v3"')], 'phone')
      expect(replay.results).toEqual([{ mid: 1, rev: r.head }, { mid: 2, rev: r.head }, { mid: 3, rev: r.head + 1 }])
      expect(replay.changes).toEqual([{ rev: r.head + 1, key: 'k', value: '"v3"' }])
      // The account's own client is untouched.
      expect((await f.storage.commit('acct', [store(1, 'x', '2')], 'laptop')).changes).toEqual([])
    })

    it('merges two anonymous users into one account, one after the other', async () => {
      await using f = await setup()
      await f.storage.commit('anon_a', [store(1, 'a', '1'), store(2, 'both', '"a"')], 'phone')
      await f.storage.commit('anon_b', [store(1, 'b', '2'), store(2, 'both', '"b"')], 'tablet')
      await f.storage.mergeUser('anon_a', 'acct', { prefer: 'account' })
      const second = await f.storage.mergeUser('anon_b', 'acct', { prefer: 'account' })
      expect(second.conflicts).toEqual(['both'])
      expect(await valuesOf(f, 'acct')).toEqual({ a: '1', b: '2', both: '"a"' })
      expect((await f.storage.commit('acct', [store(2, 'both', 'x')], 'tablet')).changes).toEqual([])
      expect((await f.storage.commit('acct', [store(2, 'both', 'x')], 'phone')).changes).toEqual([])
    })

    it('refuses a merge that would take the account past its quota, and changes nothing', async () => {
      await using f = await setup({ quota: { maxKeys: 3 } })
      await f.storage.commit('acct', [store(1, 'a', '1'), store(2, 'b', '1')])
      await f.storage.commit('anon_a', [store(1, 'a', '2'), store(2, 'c', '1'), store(3, 'd', '1')], 'phone')
      const refused = await f.storage.mergeUser('anon_a', 'acct', { prefer: 'account' }).catch((e: unknown) => e)
      expect(isCubbyError(refused, 'QUOTA_EXCEEDED')).toBe(true)
      expect(await valuesOf(f, 'acct')).toEqual({ a: '1', b: '1' })
      expect(await f.storage.head('acct')).toBe(2)
      expect(await valuesOf(f, 'anon_a')).toEqual({ a: '2', c: '1', d: '1' })
      expect(await f.storage.deletedAt('anon_a')).toBeUndefined()
      expect((await f.storage.commit('anon_a', [store(3, 'd', '2')], 'phone')).changes).toEqual([])
      // Within the quota (the conflicting key costs nothing), it goes through.
      await f.storage.commit('acct', [del(3, 'b')])
      expect((await f.storage.mergeUser('anon_a', 'acct', { prefer: 'account' })).changes.map((c) => c.rev)).toEqual([4, 5])
    })

    it('refuses a merge authorised before either user was deleted, and changes nothing', async () => {
      await using f = await setup()
      await f.storage.commit('anon_a', [store(1, 'a', '1')])
      const authorizedAt = Date.now()
      await f.storage.deleteUser('acct')
      const refused = await f.storage.mergeUser('anon_a', 'acct', { prefer: 'account', authorizedAt }).catch((e: unknown) => e)
      expect(isCubbyError(refused, 'UNAUTHORIZED')).toBe(true)
      expect(await valuesOf(f, 'anon_a')).toEqual({ a: '1' })
      expect(await f.storage.head('acct')).toBe(0)
    })

    it('keeps the account\'s revisions consecutive and every write whole when the account and the anonymous user write during the merge', async () => {
      await using f = await setup()
      await f.storage.commit('anon_a', Array.from({ length: 20 }, (_, i) => store(i + 1, `anon-${i}`, String(i))), 'phone')
      const writes = Array.from({ length: 10 }, (_, i) => f.storage.commit('acct', [store(i + 1, `acct-${i}`, String(i))], 'laptop'))
      const merged = f.storage.mergeUser('anon_a', 'acct', { prefer: 'account' })
      const late = f.storage.commit('anon_a', [store(21, 'late', '1')], 'phone', { authorizedAt: Date.now() - 60_000 })
      await Promise.all([...writes, merged])
      // A write of the anonymous user authorised before the merge does not land after it.
      expect((await late).results).toEqual([{ mid: 21, error: expect.objectContaining({ code: 'UNAUTHORIZED' }) }])
      const { changes } = await f.storage.changesSince('acct', 0, 100)
      expect(changes.map((c) => c.rev)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
      expect((await f.storage.list('acct', { limit: 100 })).length).toBe(30)
      expect(await f.storage.list('anon_a', { limit: 100 })).toEqual([])
    })

    it('deletes an anonymous user that has no data, and keeps the merge across a reopen', async () => {
      await using f = await setup()
      expect(await f.storage.mergeUser('anon_empty', 'acct', { prefer: 'account' })).toEqual({ changes: [], head: 0, conflicts: [], clients: 0 })
      expect(await f.storage.deletedAt('anon_empty')).toEqual(expect.any(Number))
      await f.storage.commit('anon_a', [store(1, 'a', '1')], 'phone')
      await f.storage.mergeUser('anon_a', 'acct', { prefer: 'account' })
      const storage = await f.reopen()
      expect((await storage.list('acct', { limit: 10 })).map((e) => e.key)).toEqual(['a'])
      expect((await storage.commit('acct', [store(1, 'a', '2')], 'phone')).changes).toEqual([])
      expect(await storage.list('anon_a', { limit: 10 })).toEqual([])
    })
  })
}

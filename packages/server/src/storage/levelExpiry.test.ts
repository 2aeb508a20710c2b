import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { createLevelStorage } from './createLevelStorage.js'
import type { CubbyStorage } from './CubbyStorage.js'

async function openStorage(quota?: { maxBytes: number }): Promise<{ storage: CubbyStorage } & AsyncDisposable> {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-expiry-'))
  const db = new Level(join(dir, 'db'))
  const storage = createLevelStorage({ db, ...(quota === undefined ? {} : { quota }) })
  await storage.open()
  return {
    storage,
    [Symbol.asyncDispose]: async () => {
      await storage.close()
      await db.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

describe('LevelDB expiry', () => {
  it('sweeps only what is due, from an index ordered by time, as tombstones at new revisions', async () => {
    await using s = await openStorage()
    const { storage } = s
    const now = Date.now()
    await storage.commit('a', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: now - 10 }])
    await storage.commit('b', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: now + 60_000 }])
    expect(await storage.nextExpiry!()).toBe(now - 10)
    expect(await storage.sweepExpired!(now, 100)).toEqual([{ userId: 'a', changes: [{ rev: 2, key: 'k', deleted: true }] }])
    expect(await storage.head('a')).toBe(2)
    expect(await storage.head('b')).toBe(1)
    expect(await storage.nextExpiry!()).toBe(now + 60_000)
    // Nothing due: nothing written, the head stays.
    expect(await storage.sweepExpired!(now, 100)).toEqual([])
    expect(await storage.head('a')).toBe(2)
  })

  it('clears the expiry with a store without one, and never deletes a value written after the entry', async () => {
    await using s = await openStorage()
    const { storage } = s
    const now = Date.now()
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: now + 50 }])
    await storage.commit('u', [{ op: 'store', mid: 2, key: 'k', value: '2' }])
    expect(await storage.nextExpiry!()).toBeUndefined()
    expect(await storage.sweepExpired!(now + 100, 100)).toEqual([])
    expect(await storage.get('u', 'k')).toEqual({ key: 'k', rev: 2, value: '2' })
    // A clear leaves a stale index entry behind: its sweep removes the entry and deletes nothing.
    await storage.commit('u', [{ op: 'store', mid: 3, key: 'j', value: '3', expiresAt: now + 50 }, { op: 'clear', mid: 4 }])
    await storage.commit('u', [{ op: 'store', mid: 5, key: 'j', value: '5' }])
    expect(await storage.sweepExpired!(now + 100, 100)).toEqual([])
    expect(await storage.nextExpiry!()).toBeUndefined()
    expect(await storage.get('u', 'j')).toEqual({ key: 'j', rev: 5, value: '5' })
  })

  it('frees the bytes of an expired value for the quota once swept', async () => {
    await using s = await openStorage({ maxBytes: 300 })
    const { storage } = s
    const big = JSON.stringify('x'.repeat(120))
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'a', value: big, expiresAt: Date.now() - 1 }])
    const over = await storage.commit('u', [{ op: 'store', mid: 2, key: 'b', value: big }])
    expect(over.results[0]).toMatchObject({ error: { code: 'QUOTA_EXCEEDED' } })
    await storage.sweepExpired!(Date.now(), 100)
    const after = await storage.commit('u', [{ op: 'store', mid: 3, key: 'b', value: big }])
    expect(after.results[0]).toMatchObject({ rev: expect.any(Number) })
  })

  it('sweeps a deleted user without bringing the user back', async () => {
    await using s = await openStorage()
    const { storage } = s
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: Date.now() + 20 }])
    await storage.deleteUser('u')
    expect(await storage.sweepExpired!(Date.now() + 100, 100)).toEqual([])
    expect(await storage.users({ limit: 10 })).toEqual([])
  })

  it('imports a value with its expiry and keeps it in the index', async () => {
    await using s = await openStorage()
    const { storage } = s
    const at = Date.now() + 60_000
    async function* records() {
      yield { type: 'user' as const, v: 1 as const, userId: 'u', head: 1, clearRev: 0 }
      yield { type: 'value' as const, key: 'k', rev: 1, value: '1', expiresAt: at }
    }
    await storage.importUser('u', records())
    expect(await storage.get('u', 'k')).toEqual({ key: 'k', rev: 1, value: '1', expiresAt: at })
    expect(await storage.nextExpiry!()).toBe(at)
  })
  it('carries an expiry through an account merge: the expiring value keeps its moment and is swept in the account, an expired one is not carried', async () => {
    await using s = await openStorage()
    const { storage } = s
    const now = Date.now()
    await storage.commit('anon_a', [
      { op: 'store', mid: 1, key: 'draft', value: '"d"', expiresAt: now + 60_000 },
      { op: 'store', mid: 2, key: 'stale', value: '"s"', expiresAt: now - 1 },
    ])
    await storage.commit('acct', [{ op: 'store', mid: 1, key: 'cached', value: '"old"', expiresAt: now + 30_000 }])
    // The account's expiring value is overwritten by the anonymous one: its index entry must go with it.
    await storage.commit('anon_a', [{ op: 'store', mid: 3, key: 'cached', value: '"new"' }])
    const merged = await storage.mergeUser('anon_a', 'acct', { prefer: 'anonymous' })
    expect(merged.changes.map((c) => ('key' in c ? c.key : ''))).toEqual(['cached', 'draft'])
    expect(await storage.get('acct', 'stale')).toBeUndefined()
    expect(await storage.get('acct', 'draft')).toMatchObject({ value: '"d"', expiresAt: now + 60_000 })
    expect(await storage.get('acct', 'cached')).toEqual({ key: 'cached', rev: expect.any(Number), value: '"new"' })
    expect(await storage.nextExpiry!()).toBeDefined()
    const swept = await storage.sweepExpired!(now + 60_000, 100)
    expect(swept.filter((x) => x.userId === 'acct')).toEqual([{ userId: 'acct', changes: [{ rev: expect.any(Number), key: 'draft', deleted: true }] }])
    expect(await storage.get('acct', 'cached')).toMatchObject({ value: '"new"' })
  })
})

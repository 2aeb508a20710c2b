import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import type { Mutation } from '@cubby/protocol'
import { describe, expect, it, vi } from 'vitest'
import { createLevelStorage, type LevelStorageOptions } from './createLevelStorage.js'
import type { CubbyStorage } from './CubbyStorage.js'
import type { LevelDatabase } from './LevelDatabase.js'
import type { UserRecord } from './UserRecord.js'
import { RECORD_OVERHEAD_BYTES } from './UserQuota.js'
import { runStorageContract, type StorageContractFixture, type StorageContractOptions } from './storage.contract.js'
import { countReads } from '../testing/countReads.js'

async function openLevelStorage(location: string, options: StorageContractOptions & Pick<LevelStorageOptions, 'maxTotalBytes'>): Promise<{ db: Level; storage: CubbyStorage }> {
  const db = new Level(location)
  const storage = createLevelStorage({ db, ...options })
  await storage.open()
  return { db, storage }
}

async function setup(options: StorageContractOptions & Pick<LevelStorageOptions, 'maxTotalBytes'> = {}): Promise<StorageContractFixture & { db: Level }> {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-storage-'))
  let current = await openLevelStorage(join(dir, 'db'), options)
  const closeCurrent = async (): Promise<void> => {
    await current.storage.close()
    await current.db.close()
  }
  return {
    get storage() { return current.storage },
    get db() { return current.db },
    async reopen() {
      await closeCurrent()
      current = await openLevelStorage(join(dir, 'db'), options)
      return current.storage
    },
    async [Symbol.asyncDispose]() {
      await closeCurrent()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

runStorageContract('createLevelStorage', setup)

it('keeps one log entry per live key or tombstone', async () => {
  await using f = await setup()
  await f.storage.commit('u', [
    { op: 'store', mid: 1, key: 'a', value: '1' }, { op: 'store', mid: 2, key: 'a', value: '2' },
    { op: 'store', mid: 3, key: 'b', value: '3' }, { op: 'delete', mid: 4, key: 'b' }, { op: 'delete', mid: 5, key: 'b' },
    { op: 'delete', mid: 6, key: 'never' }, { op: 'store', mid: 7, key: 'c', value: '7' },
  ])
  const log = await f.db.keys({ gte: 'l', lt: 'm' }).all()
  // A delete of a key without a live value (5, 6) writes no record and no log entry.
  expect(log.map((k) => k.slice(-2))).toEqual(['02', '04', '07'])
  expect(await f.db.keys({ gte: 'd', lt: 'e' }).all()).toHaveLength(3)
})

it('works on a database opened with other default encodings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-storage-'))
  const db = new Level<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' })
  try {
    const storage = createLevelStorage({ db })
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'k', value: '{"a":1}' }])
    expect(await storage.get('u', 'k')).toEqual({ key: 'k', rev: 1, value: '{"a":1}' })
    await storage.close()
  } finally {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
})

it('counts the usage of a user whose meta predates the quota, once, from the records', async () => {
  await using f = await setup({ quota: { maxKeys: 3 } })
  await f.storage.commit('u', [{ op: 'store', mid: 1, key: 'a', value: '1' }, { op: 'store', mid: 2, key: 'b', value: '2' }])
  const storage = await f.reopen()
  // The meta as the previous layout wrote it: head and clear rev only.
  await f.db.put('m1:u\x00', '2\n0')
  const r = await storage.commit('u', [{ op: 'store', mid: 1, key: 'c', value: '3' }, { op: 'store', mid: 2, key: 'd', value: '4' }])
  expect(r.results).toEqual([{ mid: 1, rev: 3 }, { mid: 2, error: expect.objectContaining({ code: 'QUOTA_EXCEEDED' }) }])
  // Head, clear rev, keys, bytes, and the second of the last write.
  expect((await f.db.get('m1:u\x00'))?.split('\n').slice(0, 4)).toEqual(['3', '0', '3', String(3 * 64 + 6)])
})

describe('the storage budget (maxTotalBytes)', () => {
  // key 'k1' + value '1234567890' + 64: each record counts 76 bytes.
  const RECORD = 76
  const value = '1234567890'
  const full = { code: 'STORAGE_FULL', message: expect.any(String) }

  it('sums every user\'s usage exactly through writes, clears, deletions, imports and a reopen, and refuses only anonymous identities\' growth', async () => {
    await using f = await setup({ maxTotalBytes: 4 * RECORD })
    const anon = 'anon_a'
    expect((await f.storage.commit(anon, [store(1, 'k1', value), store(2, 'k2', value)])).results).toEqual([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }])
    expect((await f.storage.commit('alice', [store(1, 'k1', value), store(2, 'k2', value)])).results).toEqual([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }])
    // Full: the anonymous identity's next byte is refused (within one flush too), the app's user goes on.
    const [refused, named] = await Promise.all([
      f.storage.commit('anon_b', [store(1, 'k1', value)]), f.storage.commit('alice', [store(3, 'k3', value)]),
    ])
    expect(refused.results).toEqual([{ mid: 1, error: full }])
    expect(named.results).toEqual([{ mid: 3, rev: 3 }])
    // Shrinking writes pass: a delete keeps the key's tombstone (key + 64) and frees the value.
    expect((await f.storage.commit(anon, [{ op: 'delete', mid: 3, key: 'k1' }])).results).toEqual([{ mid: 3, rev: 3 }])
    // alice's 3 records + anon's record and tombstone = 4 x 76 + 66 > budget.
    expect((await f.storage.commit('anon_b', [store(1, 'k1', value)])).results).toEqual([{ mid: 1, error: full }])
    await f.storage.deleteUser('alice')
    // Now 76 + 66 = 142 bytes are used: two more records fit, the third does not.
    expect((await f.storage.commit('anon_b', [store(1, 'k1', value), store(2, 'k2', value), store(3, 'k3', value)])).results)
      .toEqual([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }, { mid: 3, error: full }])
    // A clear frees everything of the user.
    await f.storage.commit(anon, [{ op: 'clear', mid: 4 }])
    // Reopened, the sum is loaded from the metas: anon_b's 2 records.
    let storage = await f.reopen()
    expect((await storage.commit('anon_c', [store(1, 'k1', value), store(2, 'k2', value), store(3, 'k3', value)])).results)
      .toEqual([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }, { mid: 3, error: full }])
    // An import counts too (it ignores the budget, as it ignores the quota).
    await storage.deleteUser('anon_c')
    await storage.importUser('bob', (async function* () {
      yield { type: 'user', v: 1, userId: 'bob', head: 1, clearRev: 0 } as const
      yield { type: 'value', key: 'k1', rev: 1, value } as const
    })())
    // A deleted user goes on from the head they had (2), so the next write is rev 3.
    expect((await storage.commit('anon_c', [store(1, 'k1', value), store(2, 'k2', value)])).results).toEqual([{ mid: 1, rev: 3 }, { mid: 2, error: full }])
    storage = await f.reopen()
    expect((await storage.commit('anon_d', [store(1, 'k1', value)])).results).toEqual([{ mid: 1, error: full }])
  })

  it('finds users by the time of their last write', async () => {
    await using f = await setup()
    const before = Math.floor(Date.now() / 1000)
    await f.storage.commit('u', [store(1, 'k', value)])
    expect(await f.storage.usersUnusedSince({ before: before - 1, limit: 10 })).toEqual([])
    expect(await f.storage.usersUnusedSince({ before: Math.ceil(Date.now() / 1000), limit: 10 })).toEqual(['u'])
    // Every write counts as a use; a user without data is no user.
    await f.storage.deleteUser('u')
    expect(await f.storage.usersUnusedSince({ before: Math.ceil(Date.now() / 1000), limit: 10 })).toEqual([])
  })
})


async function setupCounted(options: Omit<LevelStorageOptions, 'db'> = {}): Promise<{ db: Level; counted: LevelDatabase & { reads: number }; storage: CubbyStorage } & AsyncDisposable> {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-storage-'))
  const db = new Level(join(dir, 'db'))
  const counted = countReads(db)
  const storage = createLevelStorage({ db: counted, ...options })
  await storage.open()
  return {
    db, counted, storage,
    async [Symbol.asyncDispose]() {
      await storage.close()
      await db.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

const store = (mid: number, key: string, value: string): Mutation => ({ op: 'store', mid, key, value })
const logRevs = async (db: Level, userId: string): Promise<number[]> =>
  (await db.keys({ gte: `l${userId.length}:${userId}\x00`, lt: `l${userId.length}:${userId}\x01` }).all()).map((k) => Number.parseInt(k.slice(-16), 16))

/** Writes to `key` by client `warm` until a commit reads nothing (the user's index is loaded); returns the mid reached. */
async function warmUp(f: { counted: { reads: number }; storage: CubbyStorage }, userId: string, key = 'warm'): Promise<number> {
  let mid = 0
  await vi.waitFor(async () => {
    const before = f.counted.reads
    await f.storage.commit(userId, [store(++mid, key, String(mid))], 'warm')
    expect(f.counted.reads).toBe(before)
  }, { timeout: 5000, interval: 5 })
  return mid
}

describe('the write path\'s caches', () => {
  it('commit a known user\'s writes without a read: new keys, overwrites, deletes, replays and quota checks', async () => {
    await using f = await setupCounted({ quota: { maxKeys: 3 } })
    await f.storage.commit('u', [store(1, 'a', '1')], 'c')
    await warmUp(f, 'u')
    const before = f.counted.reads
    const r = await f.storage.commit('u', [store(2, 'a', '2'), store(3, 'b', '3'), { op: 'delete', mid: 4, key: 'a' }, store(5, 'x', '5'), store(6, 'y', '6')], 'c')
    expect(r.results.map((x) => 'rev' in x)).toEqual([true, true, true, true, false])
    // A replay gets the rev of the client's last applied mid, from the cached exactly-once record.
    expect((await f.storage.commit('u', [store(3, 'b', 'again')], 'c')).results).toEqual([{ mid: 3, rev: r.head }])
    expect(f.counted.reads).toBe(before)
    // One log entry per record, the overwritten ones deleted in the same batches.
    expect(await logRevs(f.db, 'u')).toEqual([...(await f.storage.changesSince('u', 0, 100)).changes.map((c) => c.rev)])
  })

  it('forget a deleted user: exactly-once records, usage and keys start over', async () => {
    await using f = await setupCounted()
    await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2')], 'c')
    await warmUp(f, 'u')
    const head = await f.storage.head('u')
    await f.storage.deleteUser('u')
    expect((await f.storage.commit('u', [store(1, 'a', 'x')], 'c')).results).toEqual([{ mid: 1, rev: head + 1 }])
    expect(await f.storage.users({ limit: 10 })).toEqual([{ userId: 'u', head: head + 1, keys: 1, bytes: 1 + 1 + RECORD_OVERHEAD_BYTES }])
    // The purge of the old records runs in the background.
    await vi.waitFor(async () => expect(await logRevs(f.db, 'u')).toEqual([head + 1]))
  })

  it('forget what an import replaced, also after a write made during the import', async () => {
    await using f = await setupCounted()
    await f.storage.commit('u', [store(1, 'a', '1')])
    await warmUp(f, 'u')
    await f.storage.deleteUser('u')
    async function* records(): AsyncGenerator<UserRecord> {
      yield { type: 'user', v: 1, userId: 'u', head: 10, clearRev: 0 }
      // A live write between the header and the records: the write path caches the user again.
      await f.storage.commit('u', [store(1, 'live', 'l')], 'c')
      await warmUp(f, 'u')
      yield { type: 'value', key: 'a', rev: 9, value: 'imported' }
      yield { type: 'value', key: 'b', rev: 10, value: 'imported' }
    }
    await f.storage.importUser('u', records())
    const { head } = await f.storage.commit('u', [store(1, 'a', 'new')])
    const [summary] = await f.storage.users({ limit: 1 })
    expect(summary).toEqual({ userId: 'u', head, keys: 4, bytes: expect.any(Number) })
    // The imported record of `a` (rev 9) was overwritten: its log entry went with it.
    expect(await logRevs(f.db, 'u')).toEqual((await f.storage.changesSince('u', 0, 100)).changes.map((c) => c.rev))
    expect(await logRevs(f.db, 'u')).not.toContain(9)
  })

  it('know after a clear that every key is new', async () => {
    await using f = await setupCounted({ quota: { maxKeys: 2 } })
    await f.storage.commit('u', [store(1, 'a', '1')])
    await warmUp(f, 'u')
    await f.storage.commit('u', [{ op: 'clear', mid: 1 }])
    const r = await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2'), store(3, 'c', '3')])
    expect(r.results.map((x) => 'rev' in x)).toEqual([true, true, false])
    expect((await f.storage.users({ limit: 1 }))[0]).toMatchObject({ keys: 2 })
  })

  it('stay right when the indexes are evicted for want of room', async () => {
    await using f = await setupCounted({ maxIndexedKeys: 3 })
    for (let round = 1; round <= 5; round++) {
      for (const u of ['u', 'v']) await f.storage.commit(u, [store(2 * round - 1, 'a', String(round)), store(2 * round, `k${round}`, 'x')], 'c')
    }
    for (const u of ['u', 'v']) {
      expect((await f.storage.users({ limit: 10 })).find((s) => s.userId === u)).toMatchObject({ head: 10, keys: 6 })
      expect(await logRevs(f.db, u)).toEqual((await f.storage.changesSince(u, 0, 100)).changes.map((c) => c.rev))
    }
  })
})

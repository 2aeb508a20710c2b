import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { expect, it } from 'vitest'
import { createLevelStorage } from './createLevelStorage.js'
import type { CubbyStorage } from './CubbyStorage.js'
import { runStorageContract, type StorageContractFixture, type StorageContractOptions } from './storage.contract.js'

async function openLevelStorage(location: string, options: StorageContractOptions): Promise<{ db: Level; storage: CubbyStorage }> {
  const db = new Level(location)
  const storage = createLevelStorage({ db, ...options })
  await storage.open()
  return { db, storage }
}

async function setup(options: StorageContractOptions = {}): Promise<StorageContractFixture & { db: Level }> {
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
    { op: 'delete', mid: 3, key: 'b' }, { op: 'delete', mid: 4, key: 'b' }, { op: 'store', mid: 5, key: 'c', value: '5' },
  ])
  const log = await f.db.keys({ gte: 'l', lt: 'm' }).all()
  expect(log.map((k) => k.slice(-2))).toEqual(['02', '04', '05'])
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
  expect(await f.db.get('m1:u\x00')).toBe(`3\n0\n3\n${3 * 64 + 6}`)
})

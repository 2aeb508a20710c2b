import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { expect, it } from 'vitest'
import { createLevelStorage } from './createLevelStorage.js'
import type { CubbyStorage } from './CubbyStorage.js'
import { runStorageContract, type StorageContractFixture } from './storage.contract.js'

async function openLevelStorage(location: string): Promise<{ db: Level; storage: CubbyStorage }> {
  const db = new Level(location)
  const storage = createLevelStorage({ db })
  await storage.open()
  return { db, storage }
}

async function setup(): Promise<StorageContractFixture & { db: Level }> {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-storage-'))
  let current = await openLevelStorage(join(dir, 'db'))
  const closeCurrent = async (): Promise<void> => {
    await current.storage.close()
    await current.db.close()
  }
  return {
    get storage() { return current.storage },
    get db() { return current.db },
    async reopen() {
      await closeCurrent()
      current = await openLevelStorage(join(dir, 'db'))
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

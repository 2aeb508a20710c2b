import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { expect, it } from 'vitest'
import { createLevelStorage } from '../storage/createLevelStorage.js'
import { DeletionMarkers } from './DeletionMarkers.js'

it('makes checks that start during a deletion wait for it, instead of answering from what was cached before', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-markers-'))
  const db = new Level(join(dir, 'db'))
  const storage = createLevelStorage({ db })
  try {
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'k', value: '1' }])
    const markers = new DeletionMarkers(storage, () => storage.open())
    expect(await markers.deletedAt('u')).toBeUndefined()
    const deleting = markers.changing('u', () => storage.deleteUser('u'))
    const during = markers.deletedAt('u')
    expect(await deleting).toBe(true)
    expect(await during).toBe(await storage.deletedAt('u'))
    expect(await during).toBeGreaterThan(0)
    // A failed change lets the checks go on too.
    await expect(markers.changing('v', () => Promise.reject(new Error('failed')))).rejects.toThrow('failed')
    expect(await markers.deletedAt('v')).toBeUndefined()
  } finally {
    await storage.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
})

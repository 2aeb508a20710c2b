import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import type { Mutation } from '@cubby/protocol'
import { describe, expect, it, vi } from 'vitest'
import { createLevelStorage } from './createLevelStorage.js'
import type { CubbyStorage } from './CubbyStorage.js'
import { userRange } from './levelKeys.js'

const RECORDS = 20_000
const store = (mid: number, key: string): Mutation => ({ op: 'store', mid, key, value: '"v"' })

async function withDir(run: (location: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cubby-purge-'))
  try {
    await run(join(dir, 'db'))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function fill(storage: CubbyStorage, userId: string): Promise<void> {
  for (let i = 0; i < RECORDS; i += 1000) await storage.commit(userId, Array.from({ length: 1000 }, (_, j) => store(j + 1, `k${i + j}`)))
}

const records = async (db: Level, tag: 'd' | 'l', userId: string): Promise<number> => (await db.keys(userRange(tag, userId)).all()).length
const purgePending = async (db: Level, userId: string): Promise<boolean> => (await db.get(`p${userId.length}:${userId}\x00`)) !== undefined

describe('the purge of a clear or a deletion', () => {
  for (const [what, remove] of [
    ['clear', (s: CubbyStorage) => s.commit('big', [{ op: 'clear', mid: 1 }])],
    ['deletion', (s: CubbyStorage) => s.deleteUser('big')],
  ] as const) {
    it(`runs after the ${what} in bounded steps that let other users' commits through`, async () => {
      await withDir(async (location) => {
        const db = new Level(location)
        const storage = createLevelStorage({ db })
        try {
          await fill(storage, 'big')
          await remove(storage)
          // A bystander's commit waits for one step of the purge at most, not for the whole of it.
          await storage.commit('bystander', [store(1, 'k')])
          expect(await records(db, 'd', 'big')).toBeGreaterThanOrEqual(RECORDS - 2000)
          expect(await purgePending(db, 'big')).toBe(true)
          await vi.waitFor(async () => expect(await purgePending(db, 'big')).toBe(false), { timeout: 20_000 })
          expect(await records(db, 'd', 'big')).toBe(0)
          expect(await records(db, 'l', 'big')).toBe(0)
          expect(await storage.list('bystander', { limit: 10 })).toHaveLength(1)
        } finally {
          await storage.close()
          await db.close()
        }
      })
    })
  }

  it('lets a caller wait until every pending purge is done', async () => {
    await withDir(async (location) => {
      const db = new Level(location)
      const storage = createLevelStorage({ db })
      try {
        await fill(storage, 'big')
        await storage.deleteUser('big')
        await storage.purge()
        expect(await purgePending(db, 'big')).toBe(false)
        expect(await records(db, 'd', 'big')).toBe(0)
      } finally {
        await storage.close()
        await db.close()
      }
    })
  })

  it('resumes at start-up, and never removes what was written after the clear', async () => {
    await withDir(async (location) => {
      let db = new Level(location)
      let storage = createLevelStorage({ db })
      await fill(storage, 'big')
      await storage.commit('big', [{ op: 'clear', mid: 1 }])
      // Closed while the purge has barely started.
      await storage.close()
      await db.close()
      db = new Level(location)
      expect(await records(db, 'd', 'big')).toBeGreaterThan(RECORDS / 2)
      storage = createLevelStorage({ db })
      try {
        await storage.open()
        const { head } = await storage.commit('big', [store(1, 'k5'), store(2, 'new')])
        await vi.waitFor(async () => expect(await purgePending(db, 'big')).toBe(false), { timeout: 20_000 })
        expect(await records(db, 'd', 'big')).toBe(2)
        expect(await storage.list('big', { limit: 10 })).toEqual([
          { key: 'k5', rev: head - 1, value: '"v"' }, { key: 'new', rev: head, value: '"v"' },
        ])
      } finally {
        await storage.close()
        await db.close()
      }
    })
  })
})

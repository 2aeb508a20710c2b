import { describe, expect, it } from 'vitest'
import { runCacheContract } from './cache.contract.js'
import { createMemoryCache } from './createMemoryCache.js'

runCacheContract('memory', () => createMemoryCache())

describe('memory cache: records handed over', () => {
  it('keeps the confirmed records a write hands over as they are, and copies those it does not', async () => {
    const cache = await createMemoryCache().open('u')
    const owned = { key: 'a', rev: 1, value: '"A"' }
    const lent = { key: 'b', rev: 2, value: '"B"' }
    cache.writeSync!({ putEntries: [owned], cursor: 1 }, true)
    cache.writeSync!({ putEntries: [lent], cursor: 2 })
    // Kept, not copied: a change to a handed-over record shows (which is why only the client's state hands any over).
    owned.value = '"A2"'
    lent.value = '"changed"'
    const { entries } = await cache.load()
    expect(entries).toEqual([{ key: 'a', rev: 1, value: '"A2"' }, { key: 'b', rev: 2, value: '"B"' }])
  })
})

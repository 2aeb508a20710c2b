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

  it('keeps the outbox entries a write hands over as they are, and copies those it does not', async () => {
    const cache = await createMemoryCache().open('u')
    const owned = { seq: 1, clientId: 'c', mutation: { op: 'store' as const, mid: 1, key: 'a', value: '"A"' } }
    const lent = { seq: 2, clientId: 'c', mutation: { op: 'store' as const, mid: 2, key: 'b', value: '"B"' } }
    cache.writeSync!({ outboxPut: [owned] }, true)
    cache.writeSync!({ outboxPut: [lent] })
    // The replica sets a waiting write's condition in place, then writes the entry again: kept, the cache shows it.
    Object.assign(owned.mutation, { if: { rev: 3 } })
    Object.assign(lent.mutation, { if: { rev: 4 } })
    const { outbox } = await cache.load()
    expect(outbox.map((e) => e.mutation)).toEqual([
      { op: 'store', mid: 1, key: 'a', value: '"A"', if: { rev: 3 } },
      { op: 'store', mid: 2, key: 'b', value: '"B"' },
    ])
  })
})

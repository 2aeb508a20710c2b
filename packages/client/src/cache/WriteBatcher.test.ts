import { describe, expect, it, vi } from 'vitest'
import { countingProvider } from './countingProvider.fixture.js'
import { createMemoryCache } from './createMemoryCache.js'
import { WriteBatcher } from './WriteBatcher.js'

const setup = async () => {
  const { provider, log } = countingProvider(createMemoryCache())
  const cache = await provider.open('u')
  return { cache, log, batcher: new WriteBatcher(cache) }
}
const store = (i: number) => ({ seq: i, clientId: 'c', mutation: { op: 'store' as const, mid: i, key: `k${i}`, value: String(i) } })

describe('WriteBatcher', () => {
  it('writes everything enqueued in one tick in one transaction', async () => {
    const { cache, log, batcher } = await setup()
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => batcher.enqueue({ outboxPut: [store(i + 1)] })))
    expect(log.writes).toHaveLength(1)
    expect((await cache.load()).outbox).toHaveLength(10_000)
  })

  it('lets local writes go before server bookkeeping, each awaited store in a transaction of its own', async () => {
    const { cache, log, batcher } = await setup()
    // Awaited stores, each followed by its echo and ack (lazy), as a client online does: the stores never wait
    // for the bookkeeping, which goes once no store is queued.
    for (let i = 1; i <= 5; i++) {
      await batcher.enqueue({ outboxPut: [store(i)] })
      void batcher.enqueue({ putEntries: [{ key: `k${i}`, rev: i, value: String(i) }], cursor: i }, { urgent: false })
      void batcher.enqueue({ outboxDelete: [{ clientId: 'c', mid: i }] }, { urgent: false })
    }
    expect(log.writes.map((w) => w.outboxPut?.map((e) => e.seq))).toEqual([[1], [2], [3], [4], [5]])
    expect(log.writes.map((w) => [w.cursor, w.outboxDelete?.length ?? 0])).toEqual(Array(5).fill([undefined, 0]))
    await batcher.drain()
    expect(log.writes).toHaveLength(6)
    expect(log.writes[5]).toMatchObject({ cursor: 5, outboxPut: [], outboxDelete: [1, 2, 3, 4, 5].map((mid) => ({ clientId: 'c', mid })) })
    expect(await cache.load()).toMatchObject({ outbox: [], cursor: 5 })
  })

  it('sends bookkeeping that waited long enough along with the next local write', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const { log, batcher } = await setup()
      await batcher.enqueue({ outboxPut: [store(1)] })
      const bookkeeping = batcher.enqueue({ cursor: 1, outboxDelete: [{ clientId: 'c', mid: 1 }] }, { urgent: false })
      await batcher.enqueue({ outboxPut: [store(2)] })
      vi.setSystemTime(Date.now() + 1_000)
      await batcher.enqueue({ outboxPut: [store(3)] })
      await bookkeeping
      expect(log.writes).toHaveLength(3)
      expect(log.writes[2]).toMatchObject({ cursor: 1, outboxDelete: [{ clientId: 'c', mid: 1 }], outboxPut: [store(3)] })
    } finally {
      vi.useRealTimers()
    }
  })

  it('hurries bookkeeping for settled(): it goes with the next transaction', async () => {
    const { log, batcher } = await setup()
    const bookkeeping = batcher.enqueue({ cursor: 4 }, { urgent: false })
    const settled = batcher.settled()
    const next = batcher.enqueue({ outboxPut: [store(1)] })
    await Promise.all([bookkeeping, settled, next])
    expect(log.writes).toHaveLength(1)
    expect(log.writes[0]).toMatchObject({ cursor: 4, outboxPut: [store(1)] })
  })

  it('writes lazy bookkeeping on its own when no local write comes', async () => {
    const { cache, log, batcher } = await setup()
    await batcher.enqueue({ cursor: 7 }, { urgent: false })
    expect(log.writes).toHaveLength(1)
    expect((await cache.load()).cursor).toBe(7)
  })

  it('keeps one transaction in flight and puts what comes meanwhile into the next', async () => {
    const { log, batcher } = await setup()
    const first = batcher.enqueue({ cursor: 1 })
    await Promise.resolve()
    await Promise.resolve()
    const later = [batcher.enqueue({ cursor: 2 }), batcher.enqueue({ cursor: 3 })]
    await Promise.all([first, ...later])
    expect(log.writes.map((w) => w.cursor)).toEqual([1, 3])
  })

  it('merges in order: a clear drops earlier entry writes, a later put wins over a delete', async () => {
    const { cache, batcher } = await setup()
    await batcher.enqueue({ putEntries: [{ key: 'old', rev: 1, value: '1' }], cursor: 1 })
    void batcher.enqueue({ putEntries: [{ key: 'a', rev: 2, value: '2' }] })
    void batcher.enqueue({ clearEntries: true, putEntries: [{ key: 'b', rev: 3, value: '3' }] })
    void batcher.enqueue({ deleteEntries: ['b'] })
    await batcher.enqueue({ putEntries: [{ key: 'b', rev: 5, value: '5' }], outboxPut: [store(1)], cursor: 5 })
    await batcher.enqueue({ outboxDelete: [{ clientId: 'c', mid: 1 }] })
    expect(await cache.load()).toEqual({ entries: [{ key: 'b', rev: 5, value: '5' }], outbox: [], cursor: 5 })
  })

  it('rejects every caller of a failed transaction and carries on with the next', async () => {
    const { cache, log, batcher } = await setup()
    log.failNext(1)
    const failed = [batcher.enqueue({ outboxPut: [store(1)] }), batcher.enqueue({ outboxPut: [store(2)] })]
    await expect(failed[0]).rejects.toThrow('disk full')
    await expect(failed[1]).rejects.toThrow('disk full')
    await batcher.enqueue({ outboxPut: [store(3)] })
    expect((await cache.load()).outbox.map((e) => e.seq)).toEqual([3])
  })

  it('drains: resolves once nothing is queued or in flight', async () => {
    const { cache, batcher } = await setup()
    void batcher.enqueue({ cursor: 9 })
    await batcher.drain()
    expect((await cache.load()).cursor).toBe(9)
  })

  it('lets a reset take the cursor back within a batch', async () => {
    const { cache, log, batcher } = await setup()
    await Promise.all([
      batcher.enqueue({ putEntries: [{ key: 'old', rev: 9, value: '9' }], cursor: 9 }),
      batcher.enqueue({ reset: true, clearEntries: true, putEntries: [{ key: 'new', rev: 1, value: '1' }], cursor: 1 }),
    ])
    expect(log.writes).toHaveLength(1)
    expect(log.writes[0]).toMatchObject({ reset: true, cursor: 1, putEntries: [{ key: 'new', rev: 1, value: '1' }] })
    expect(await cache.load()).toEqual({ entries: [{ key: 'new', rev: 1, value: '1' }], outbox: [], cursor: 1 })
  })
})

import { type ClientMessage, CubbyError, type PushMessage, parseClientMessage } from '@cubby/protocol'
import { describe, expect, it, vi } from 'vitest'
import { Replica, type ReplicaHooks } from './Replica.js'
import type { CacheSnapshot, CacheWrite, CubbyCache } from './cache/CubbyCache.js'
import { countingProvider } from './cache/countingProvider.fixture.js'
import { createMemoryCache } from './cache/createMemoryCache.js'
import { LocalState } from './state/LocalState.js'

const enc = (v: unknown): string => JSON.stringify(v)

async function setup(snapshot?: CacheSnapshot, pushIntervalMs = 0) {
  const { provider, log } = countingProvider(createMemoryCache())
  const cache = await provider.open('alice')
  if (snapshot) await cache.write({ putEntries: snapshot.entries, outboxPut: snapshot.outbox, cursor: snapshot.cursor })
  const events = { changes: [] as unknown[], errors: [] as string[], pending: [] as number[], synced: 0 }
  const hooks: ReplicaHooks = {
    change: (changes, origin) => changes.length > 0 && events.changes.push({ origin, changes }),
    pending: (writes) => events.pending.push(writes.length),
    error: (error) => events.errors.push(error.code),
    synced: () => events.synced++,
  }
  const replica = new Replica({ state: new LocalState(await cache.load()), cache, hooks, clientId: 'tab', maxFrameBytes: 1 << 20, pushIntervalMs })
  const sent: ClientMessage[] = []
  const pushed = (): PushMessage['mutations'] => sent.flatMap((m) => (m.type === 'push' ? m.mutations : []))
  const connect = (): void => replica.connected((frame) => (sent.push(parseClientMessage(frame)), true))
  return { replica, provider, log, events, sent, pushed, connect }
}

describe('Replica', () => {
  it('sends writes once they are durable, and the loaded outbox first on connect', async () => {
    const old = { seq: 1, clientId: 'old-tab', mutation: { op: 'store' as const, mid: 7, key: 'a', value: enc(1) } }
    const { replica, sent, connect } = await setup({ entries: [], outbox: [old], cursor: 0 })
    const write = replica.write([{ op: 'store', key: 'b', value: enc(2) }])
    connect()
    expect(sent).toEqual([{ type: 'push', clientId: 'old-tab', mutations: [old.mutation] }])
    await write
    // The new write goes once durable, as a second round next to the push in flight.
    expect(sent[1]).toEqual({ type: 'push', clientId: 'tab', mutations: [{ op: 'store', mid: 1, key: 'b', value: enc(2) }] })
  })

  it('resends everything unacknowledged after a reconnect, and not what was acknowledged', async () => {
    const { replica, pushed, connect } = await setup()
    connect()
    await replica.write([
      { op: 'store', key: 'a', value: enc(1) },
      { op: 'store', key: 'b', value: enc(2) },
    ])
    replica.receive({ type: 'ack', clientId: 'tab', results: [{ mid: 1, rev: 1 }] })
    replica.disconnected()
    connect()
    expect(pushed().map((m) => m.mid)).toEqual([1, 2, 2])
  })

  it('sends the stores of one tick in one push frame, not one frame each', async () => {
    const { replica, sent, pushed, connect } = await setup()
    connect()
    await Promise.all(Array.from({ length: 200 }, (_, i) => replica.write([{ op: 'store', key: `k${i}`, value: enc(i) }])))
    expect(sent).toHaveLength(1)
    expect(pushed().map((m) => m.mid)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    // A later store goes in a frame of its own (a second round may be in flight).
    await replica.write([{ op: 'store', key: 'later', value: enc(1) }])
    expect(sent).toHaveLength(2)
    expect(pushed().at(-1)).toMatchObject({ key: 'later', mid: 201 })
  })

  it('keeps two rounds of pushes in flight: a write made while one is unanswered leaves at once, later ones together once a round is answered', async () => {
    const { replica, sent, pushed, connect } = await setup()
    connect()
    await replica.write([{ op: 'store', key: 'first', value: enc(0) }])
    expect(sent).toHaveLength(1)
    // Awaited one after another, as an app storing values in a loop does (or one write at a time, each made before
    // the previous one's ack came back): the second leaves at once, the rest wait while two rounds are unanswered.
    for (let i = 1; i <= 5; i++) await replica.write([{ op: 'store', key: `k${i}`, value: enc(i) }])
    expect(sent).toHaveLength(2)
    expect(pushed().map((m) => m.mid)).toEqual([1, 2])
    replica.receive({ type: 'ack', clientId: 'tab', results: [{ mid: 1, rev: 1 }] })
    expect(sent).toHaveLength(3)
    expect(pushed().map((m) => m.mid)).toEqual([1, 2, 3, 4, 5, 6])
    // An error answers a frame too (the server could not read it), so writes never wait for an answer that won't come.
    await replica.write([{ op: 'store', key: 'after-error', value: enc(7) }])
    expect(sent).toHaveLength(3)
    replica.receive({ type: 'error', code: 'BAD_MESSAGE', message: 'unreadable' })
    expect(pushed().at(-1)).toMatchObject({ key: 'after-error', mid: 7 })
    // A mirrored ack (another tab's connection) answers nothing of this one's.
    await replica.write([{ op: 'store', key: 'waits', value: enc(8) }])
    replica.follow({ type: 'ack', clientId: 'other-tab', results: [{ mid: 1, rev: 9 }] })
    expect(sent).toHaveLength(4)
    // A new session starts with nothing in flight and sends everything unanswered.
    replica.disconnected()
    connect()
    expect(sent).toHaveLength(5)
    expect(sent[4]?.type === 'push' && sent[4].mutations.map((m) => m.mid)).toEqual([2, 3, 4, 5, 6, 7, 8])
  })

  it('sends rounds of an asynchronous cache an interval apart: a loop of awaited stores, a frame per interval', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] })
    try {
      const { replica, sent, pushed, connect } = await setup(undefined, 8)
      connect()
      // After a pause, a write leaves at once.
      await replica.write([{ op: 'store', key: 'first', value: enc(0) }])
      expect(sent).toHaveLength(1)
      replica.receive({ type: 'ack', clientId: 'tab', results: [{ mid: 1, rev: 1 }] })
      vi.advanceTimersByTime(2)
      for (let i = 1; i <= 5; i++) {
        await replica.write([{ op: 'store', key: `k${i}`, value: enc(i) }])
        vi.advanceTimersByTime(1)
      }
      // Answered, but the interval is not over: the five wait for it, then leave together.
      expect(sent).toHaveLength(1)
      vi.advanceTimersByTime(1)
      expect(sent).toHaveLength(2)
      expect(pushed().map((m) => m.mid)).toEqual([1, 2, 3, 4, 5, 6])
      // Another pause: the next write leaves at once again.
      replica.receive({ type: 'ack', clientId: 'tab', results: [2, 3, 4, 5, 6].map((mid) => ({ mid, rev: mid })) })
      vi.advanceTimersByTime(20)
      await replica.write([{ op: 'store', key: 'later', value: enc(7) }])
      expect(sent).toHaveLength(3)
      // Closing drops a held round's timer.
      await replica.write([{ op: 'store', key: 'held', value: enc(8) }])
      await replica.close(new CubbyError('CLOSED'))
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  it('writes 10,000 stores of one tick in one transaction', async () => {
    const { replica, log } = await setup()
    const before = log.writes.length
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => replica.write([{ op: 'store', key: `k${i}`, value: enc(i) }])))
    expect(log.writes.length - before).toBe(1)
    expect(replica.pendingCount).toBe(10_000)
  })

  it('writes a storeMany of 200,000 entries in one transaction', async () => {
    const { replica, log } = await setup()
    const before = log.writes.length
    await replica.write(Array.from({ length: 200_000 }, (_, i) => ({ op: 'store' as const, key: `k${i}`, value: enc(i) })))
    expect(log.writes.length - before).toBe(1)
    expect(replica.pendingCount).toBe(200_000)
  }, 30_000)

  it('rolls a write back when its transaction fails', async () => {
    const { replica, log, events } = await setup()
    log.failNext(1)
    await expect(replica.write([{ op: 'store', key: 'k', value: enc(1) }])).rejects.toMatchObject({ code: 'STORAGE_ERROR' })
    expect(replica.get('k')).toBeUndefined()
    expect(replica.pendingCount).toBe(0)
    expect(events.changes).toEqual([
      { origin: 'local', changes: [{ key: 'k', value: 1 }] },
      { origin: 'local', changes: [{ key: 'k', deleted: true }] },
    ])
  })

  it('persists remote changes with the cursor, and deletes acknowledged writes from the outbox once reached', async () => {
    const { replica, provider, connect } = await setup()
    connect()
    await replica.write([{ op: 'store', key: 'k', value: enc('mine') }])
    replica.receive({ type: 'changes', changes: [{ rev: 1, key: 'k', value: enc('mine') }], rev: 1 })
    replica.receive({ type: 'ack', clientId: 'tab', results: [{ mid: 1, rev: 1 }] })
    await replica.close(new CubbyError('CLOSED'))
    const reopened = await provider.open('alice')
    expect(await reopened.load()).toEqual({ entries: [{ key: 'k', rev: 1, value: enc('mine') }], outbox: [], cursor: 1 })
  })

  it('reports a rejected write as an error event with the server code and settles synced()', async () => {
    const { replica, events, connect } = await setup()
    connect()
    await replica.write([{ op: 'store', key: 'k', value: enc(1) }])
    const synced = replica.synced()
    replica.receive({ type: 'ack', clientId: 'tab', results: [{ mid: 1, error: { code: 'QUOTA_EXCEEDED', message: 'full' } }] })
    await synced
    expect(events.errors).toEqual(['QUOTA_EXCEEDED'])
    expect(replica.get('k')).toBeUndefined()
  })

  it('resolves synced() only when the writes made before the call are acknowledged', async () => {
    const { replica, connect } = await setup()
    connect()
    await replica.synced()
    await replica.write([{ op: 'store', key: 'a', value: enc(1) }])
    let done = false
    const synced = replica.synced().then(() => (done = true))
    await replica.write([{ op: 'store', key: 'b', value: enc(2) }])
    replica.receive({ type: 'ack', clientId: 'tab', results: [{ mid: 2, rev: 2 }] })
    await Promise.resolve()
    expect(done).toBe(false)
    replica.receive({ type: 'ack', clientId: 'tab', results: [{ mid: 1, rev: 1 }] })
    await synced
  })

  it('rejects synced() waiters on close', async () => {
    const { replica } = await setup()
    await replica.write([{ op: 'store', key: 'a', value: enc(1) }])
    const synced = replica.synced()
    await replica.close(new CubbyError('CLOSED', 'closed'))
    await expect(synced).rejects.toThrow('closed')
  })

  it('turns error frames into error events and reports synced', async () => {
    const { replica, events } = await setup()
    replica.receive({ type: 'error', code: 'BAD_MESSAGE', message: 'what' })
    replica.receive({ type: 'synced', rev: 0 })
    expect(events).toMatchObject({ errors: ['BAD_MESSAGE'], synced: 1 })
  })
})

describe('Replica after a failed cache write', () => {
  it('repairs the cache so that its cursor never claims changes it lost', async () => {
    const { replica, provider, log, events } = await setup()
    log.failNext(1)
    replica.receive({ type: 'changes', changes: [{ rev: 1, key: 'lost', value: enc(1) }], rev: 1 })
    await new Promise((resolve) => setTimeout(resolve, 0))
    replica.receive({ type: 'changes', changes: [{ rev: 2, key: 'later', value: enc(2) }], rev: 2 })
    await replica.close(new CubbyError('CLOSED'))
    expect(events.errors).toEqual(['STORAGE_ERROR'])
    const snapshot = await (await provider.open('alice')).load()
    expect(snapshot.cursor).toBe(2)
    expect(snapshot.entries.map((e) => e.key).sort()).toEqual(['later', 'lost'])
  })

  it('carries the repair on the next write when the repair fails too', async () => {
    const { replica, provider, log } = await setup()
    log.failNext(2)
    replica.receive({ type: 'changes', changes: [{ rev: 1, key: 'lost', value: enc(1) }], rev: 1 })
    await new Promise((resolve) => setTimeout(resolve, 0))
    replica.receive({ type: 'synced', rev: 1 })
    await replica.close(new CubbyError('CLOSED'))
    const snapshot = await (await provider.open('alice')).load()
    expect(snapshot).toMatchObject({ cursor: 1, entries: [{ key: 'lost', rev: 1 }] })
  })
})

describe('Replica on a synchronous cache (memory)', () => {
  async function setupSync() {
    const memory = await createMemoryCache().open('alice')
    const writes: CacheWrite[] = []
    const handedOver: boolean[] = []
    let failNext = false
    const cache: CubbyCache = {
      persistent: false,
      load: () => memory.load(),
      write: (batch) => memory.write(batch),
      writeSync: (batch, ownsRecords) => {
        writes.push(batch)
        handedOver.push(ownsRecords === true)
        if (failNext) throw ((failNext = false), new Error('disk full'))
        memory.writeSync!(batch, ownsRecords)
      },
      destroy: () => memory.destroy(),
      close: () => memory.close(),
    }
    const changes: unknown[] = []
    const hooks: ReplicaHooks = { change: (c) => c.length > 0 && changes.push(c), pending: () => {}, error: () => {}, synced: () => {} }
    const replica = new Replica({ state: new LocalState(await cache.load()), cache, hooks, clientId: 'tab', maxFrameBytes: 1 << 20 })
    const sent: PushMessage[] = []
    replica.connected((frame) => (sent.push(parseClientMessage(frame) as PushMessage), true))
    return { replica, writes, handedOver, sent, changes, fail: () => (failNext = true) }
  }

  it('puts stores in the outbox before write() returns and sends those of one tick in one push on the next microtask', async () => {
    const { replica, writes, sent } = await setupSync()
    const done = [0, 1, 2].map((i) => replica.write([{ op: 'store', key: `k${i}`, value: enc(i) }]))
    expect(writes.flatMap((w) => w.outboxPut ?? []).map((e) => e.mutation.mid)).toEqual([1, 2, 3])
    await Promise.resolve()
    expect(sent).toHaveLength(1)
    expect(sent[0]!.mutations.map((m) => m.mid)).toEqual([1, 2, 3])
    await Promise.all(done)
  })

  it('hands the outbox entry of a store to the cache to keep, and sends it as made', async () => {
    const { replica, writes, handedOver, sent } = await setupSync()
    await replica.write([{ op: 'store', key: 'k', value: enc(1) }])
    // Made for this write alone: the cache keeps it rather than copying it (see CubbyCache.writeSync).
    expect(handedOver).toEqual([true])
    expect(writes[0]!.outboxPut![0]!.mutation).toBe(replica.lastWrite('k')!.mutation)
    await Promise.resolve()
    expect(sent[0]!.mutations).toEqual([{ op: 'store', mid: 1, key: 'k', value: enc(1) }])
  })

  it('rolls a store back and rejects with STORAGE_ERROR when the synchronous write throws, sending nothing', async () => {
    const { replica, sent, changes, fail } = await setupSync()
    fail()
    await expect(replica.write([{ op: 'store', key: 'k', value: enc(1) }])).rejects.toMatchObject({ code: 'STORAGE_ERROR' })
    expect(replica.get('k')).toBeUndefined()
    expect(changes).toEqual([[{ key: 'k', value: 1 }], [{ key: 'k', deleted: true }]])
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(sent).toEqual([])
  })
})

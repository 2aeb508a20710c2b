import type { ChangesMessage, Mutation } from '@cubby/protocol'
import { encodeValue } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import { connectUser, openRawSocket, startTestServer } from '@cubby/test-utils'

const store = (mid: number, key: string, value: unknown): Mutation => ({ op: 'store', mid, key, value: encodeValue(value) })
const changesOf = (messages: Array<{ type: string }>): ChangesMessage[] => messages.filter((m): m is ChangesMessage => m.type === 'changes')
const revsOf = (messages: Array<{ type: string }>): number[] => changesOf(messages).flatMap((m) => m.changes.map((c) => c.rev))

describe('sync over WebSocket', () => {
  it('welcomes a valid hello, then sends synced', async () => {
    await using server = await startTestServer()
    await server.cubby.store('alice', 'a', 1)
    await using socket = await openRawSocket(server.url)
    socket.send({ type: 'hello', v: 1, token: server.token('alice'), cursor: 0 })
    await socket.next('synced')
    expect(socket.frames).toEqual([
      { type: 'welcome', v: 1, userId: 'alice', head: 1, ping: true, now: expect.any(Number) },
      { type: 'changes', changes: [{ rev: 1, key: 'a', value: '1' }], rev: 1 },
      { type: 'synced', rev: 1 },
    ])
  })

  it('sends the changes of a push before its ack', async () => {
    await using server = await startTestServer()
    await using socket = await connectUser(server, 'alice')
    socket.send({ type: 'push', clientId: 'c1', mutations: [store(1, 'a', 'x'), { op: 'delete', mid: 2, key: 'b' }] })
    await socket.next('ack')
    expect(socket.frames.slice(2)).toEqual([
      { type: 'changes', changes: [{ rev: 1, key: 'a', value: '"x"' }, { rev: 2, key: 'b', deleted: true }], rev: 2 },
      { type: 'ack', clientId: 'c1', results: [{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }] },
    ])
  })

  it('leaves a session that said echo: false its own live changes out, and no other change', async () => {
    await using server = await startTestServer()
    await server.cubby.store('alice', 'before', 0)
    await using quiet = await connectUser(server, 'alice', { cursor: 0, echo: false })
    await using other = await connectUser(server, 'alice')
    quiet.send({ type: 'push', clientId: 'q', mutations: [store(1, 'a', 'x'), { op: 'delete', mid: 2, key: 'before' }] })
    await quiet.next('ack')
    other.send({ type: 'push', clientId: 'o', mutations: [store(1, 'b', 'y')] })
    await quiet.next('changes', (m) => m.rev === 4)
    quiet.send({ type: 'push', clientId: 'q', mutations: [{ op: 'clear', mid: 3 }] })
    await quiet.next('ack', (m) => m.results[0]!.mid === 3)
    await server.cubby.store('alice', 'c', 1)
    await quiet.next('changes', (m) => m.rev === 6)
    expect(quiet.frames.slice(3)).toEqual([
      { type: 'ack', clientId: 'q', results: [{ mid: 1, rev: 2 }, { mid: 2, rev: 3 }] },
      { type: 'changes', changes: [{ rev: 4, key: 'b', value: '"y"' }], rev: 4 },
      { type: 'ack', clientId: 'q', results: [{ mid: 3, rev: 5 }] },
      { type: 'changes', changes: [{ rev: 6, key: 'c', value: '1' }], rev: 6 },
    ])
    // Everyone else still gets them; so does the same client when it catches up from storage.
    await other.next('changes', (m) => m.rev === 6)
    expect(revsOf(other.frames)).toEqual([1, 2, 3, 4, 5, 6])
    await using later = await connectUser(server, 'alice', { cursor: 1, echo: false })
    expect(revsOf(later.frames)).toEqual([5, 6])
  })

  it('answers a ping with a pong, and a ping before the hello ends the connection like any other first frame', async () => {
    await using server = await startTestServer()
    await using socket = await connectUser(server, 'alice')
    socket.send({ type: 'ping' })
    await socket.next('pong')
    expect(socket.frames).toEqual([{ type: 'welcome', v: 1, userId: 'alice', head: 0, ping: true, now: expect.any(Number) }, { type: 'synced', rev: 0 }, { type: 'pong' }])
    await using early = await openRawSocket(server.url)
    early.send({ type: 'ping' })
    expect(await early.closed).toBe(4003)
  })

  it('delivers changes live to other sessions of the user only', async () => {
    await using server = await startTestServer()
    await using writer = await connectUser(server, 'alice')
    await using reader = await connectUser(server, 'alice')
    await using stranger = await connectUser(server, 'bob')
    writer.send({ type: 'push', clientId: 'c1', mutations: [store(1, 'k', 42)] })
    await reader.next('changes')
    expect(changesOf(reader.frames)).toEqual([{ type: 'changes', changes: [{ rev: 1, key: 'k', value: '42' }], rev: 1 }])
    await server.cubby.store('bob', 'later', true)
    await stranger.next('changes')
    expect(changesOf(stranger.frames)).toEqual([{ type: 'changes', changes: [{ rev: 1, key: 'later', value: 'true' }], rev: 1 }])
  })

  it('catches up 2,000 keys from a snapshot in batches, each key once, the head in the last frame', async () => {
    await using server = await startTestServer()
    const mutations = Array.from({ length: 2000 }, (_, i) => store(i + 1, `key${i}`, i))
    await Promise.all([server.cubby.store('alice', 'key0', 'old'), ...[0, 1000].map(async (from) => {
      await using s = await connectUser(server, 'alice')
      s.send({ type: 'push', clientId: `c${from}`, mutations: mutations.slice(from, from + 1000) })
      await s.next('ack')
    })])
    await using socket = await connectUser(server, 'alice')
    const batches = changesOf(socket.frames)
    expect(batches.map((b) => b.changes.length)).toEqual([500, 500, 500, 500])
    // In key order, so every frame but the last leaves the client's cursor where it was.
    expect(batches.map((b) => b.rev)).toEqual([0, 0, 0, 2001])
    const revs = revsOf(socket.frames)
    expect(new Set(revs).size).toBe(2000)
    expect(Math.min(...revs)).toBe(2)
    expect(new Set(batches.flatMap((b) => b.changes.map((c) => ('key' in c ? c.key : '')))).size).toBe(2000)
    expect(socket.frames.at(-1)).toEqual({ type: 'synced', rev: 2001 })
  })

  it('sends only the changes after the cursor', async () => {
    await using server = await startTestServer()
    for (const key of ['a', 'b', 'c']) await server.cubby.store('alice', key, key)
    await using socket = await connectUser(server, 'alice', { cursor: 2 })
    expect(socket.frames.slice(1)).toEqual([
      { type: 'changes', changes: [{ rev: 3, key: 'c', value: '"c"' }], rev: 3 }, { type: 'synced', rev: 3 },
    ])
  })

  it('applies a push retried on a new connection once and acks it with the same revs', async () => {
    await using server = await startTestServer()
    await using socket = await connectUser(server, 'alice')
    const push = { type: 'push', clientId: 'c1', mutations: [store(1, 'a', 1), store(2, 'b', 2)] }
    socket.send(push)
    expect((await socket.next('ack')).results).toEqual([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }])
    // A retry comes on a later connection (an ack cannot get lost on a live one), e.g. after a reload.
    await using again = await connectUser(server, 'alice', { cursor: 2 })
    again.send(push)
    expect((await again.next('ack')).results).toEqual([{ mid: 1, rev: 2 }, { mid: 2, rev: 2 }])
    expect(revsOf(socket.frames)).toEqual([1, 2])
    expect(revsOf(again.frames)).toEqual([])
    expect(await server.cubby.list('alice')).toEqual(['a', 'b'])
  })

  it('processes frames sent right after the hello, in order, after the welcome', async () => {
    await using server = await startTestServer()
    await server.cubby.store('alice', 'old', 0)
    await using socket = await openRawSocket(server.url)
    socket.send({ type: 'hello', v: 1, token: server.token('alice'), cursor: 0 })
    for (let mid = 1; mid <= 5; mid++) socket.send({ type: 'push', clientId: 'c', mutations: [store(mid, 'k', mid)] })
    await socket.next('ack', (a) => a.results[0]?.mid === 5)
    expect(socket.frames.slice(0, 3).map((m) => m.type)).toEqual(['welcome', 'changes', 'synced'])
    expect(revsOf(socket.frames)).toEqual([1, 2, 3, 4, 5, 6])
    const acks = socket.frames.flatMap((m, i) => (m.type === 'ack' ? [{ i, ...m.results[0]! }] : []))
    expect(acks.map((a) => [a.mid, 'rev' in a ? a.rev : 0])).toEqual([[1, 2], [2, 3], [3, 4], [4, 5], [5, 6]])
    for (const ack of acks) {
      const sentAt = socket.frames.findIndex((m) => m.type === 'changes' && m.rev >= ('rev' in ack ? ack.rev : 0))
      expect(sentAt).toBeLessThan(ack.i)
    }
  })

  it('sends a clear first to a client whose cursor is ahead of the server', async () => {
    await using server = await startTestServer()
    await server.cubby.store('alice', 'a', 1)
    await using socket = await connectUser(server, 'alice', { cursor: 99 })
    expect(socket.frames.slice(1)).toEqual([
      { type: 'changes', changes: [{ rev: 0, clear: true }], rev: 0 },
      { type: 'changes', changes: [{ rev: 1, key: 'a', value: '1' }], rev: 1 },
      { type: 'synced', rev: 1 },
    ])
  })
})

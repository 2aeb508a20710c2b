import { encodeValue, type AckMessage, type Mutation, type WriteCondition } from '@cubby/protocol'
import { connectUser, startCliServer, type RawSocket } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'

/** Sends a push and waits for its ack (the first ack for `clientId` whose results hold `mids[0]`). */
async function push(socket: RawSocket, clientId: string, mutations: Mutation[], extra: Record<string, unknown> = {}): Promise<AckMessage['results']> {
  const from = socket.frames.length
  socket.send({ type: 'push', clientId, mutations, ...extra })
  const ack = await socket.next('ack', (a) => a.clientId === clientId && a.results.some((r) => r.mid === mutations[0]!.mid), from)
  return ack.results
}

const store = (mid: number, key: string, value: unknown, condition?: WriteCondition): Mutation =>
  ({ op: 'store', mid, key, value: encodeValue(value), ...(condition !== undefined && { if: condition }) })

describe('conditional writes on the server', () => {
  it('lets exactly one of two writes at the same version win, and rejects the other with CONFLICT and the winner\'s version', async () => {
    await using server = await startCliServer()
    await using a = await connectUser(server, 'seat')
    await using b = await connectUser(server, 'seat')
    const [first] = await push(a, 'a', [store(1, 'seat', 'nobody')])
    const version = (first as { rev: number }).rev
    const [resA, resB] = await Promise.all([
      push(a, 'a', [store(2, 'seat', 'alice', { rev: version })]),
      push(b, 'b', [store(1, 'seat', 'bob', { rev: version })]),
    ])
    const verdicts = [resA[0]!, resB[0]!]
    const won = verdicts.filter((r) => 'rev' in r)
    const lost = verdicts.filter((r) => 'error' in r)
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    expect(lost[0]).toMatchObject({ error: { code: 'CONFLICT', rev: (won[0] as { rev: number }).rev } })
    // The loser's session was sent the winner's value before its verdict.
    const loser = 'error' in resA[0]! ? a : b
    const winner = 'error' in resA[0]! ? 'bob' : 'alice'
    const ackAt = loser.frames.findIndex((f) => f.type === 'ack' && f.results.some((r) => 'error' in r))
    const change = loser.frames.findIndex((f) => f.type === 'changes' && f.changes.some((c) => 'value' in c && c.value === encodeValue(winner)))
    expect(change).toBeGreaterThanOrEqual(0)
    expect(change).toBeLessThan(ackAt)
  })

  it('checks ifAbsent against live values only (a deleted key is absent)', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'absent')
    expect(await push(s, 'c', [store(1, 'k', 1, { absent: true })])).toMatchObject([{ mid: 1, rev: 1 }])
    expect(await push(s, 'c', [store(2, 'k', 2, { absent: true })])).toMatchObject([{ mid: 2, error: { code: 'CONFLICT', rev: 1 } }])
    expect(await push(s, 'c', [{ op: 'delete', mid: 3, key: 'k', if: { rev: 1 } }])).toMatchObject([{ mid: 3, rev: 2 }])
    expect(await push(s, 'c', [store(4, 'k', 3, { absent: true })])).toMatchObject([{ mid: 4, rev: 3 }])
    expect(await push(s, 'c', [{ op: 'delete', mid: 5, key: 'k', if: { rev: 1 } }])).toMatchObject([{ mid: 5, error: { code: 'CONFLICT', rev: 3 } }])
  })

  it('answers a retried conditional write with its first verdict, also across a restart', async () => {
    await using server = await startCliServer()
    {
      await using s = await connectUser(server, 'retry')
      expect(await push(s, 'c', [store(1, 'k', 'v1', { absent: true }), store(2, 'k', 'v2', { absent: true })]))
        .toMatchObject([{ mid: 1, rev: 1 }, { mid: 2, error: { code: 'CONFLICT' } }])
    }
    await server.restart()
    await using s = await connectUser(server, 'retry')
    // The first write is not checked again against its own result; the rejected one is not applied now.
    expect(await push(s, 'c', [store(1, 'k', 'v1', { absent: true }), store(2, 'k', 'v2', { absent: true })]))
      .toMatchObject([{ mid: 1, rev: 1 }, { mid: 2, error: { code: 'CONFLICT' } }])
    expect(await push(s, 'other', [store(1, 'probe', 0)])).toMatchObject([{ rev: 2 }])
  })

  it('refuses a malformed condition with BAD_MESSAGE', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'bad')
    for (const condition of [{ rev: 0 }, { rev: '1' }, { absent: false }, { rev: 1, absent: true }, { rev: 1, extra: 1 }, null, 5]) {
      const from = s.frames.length
      s.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1', if: condition }] })
      expect(await s.next('error', undefined, from)).toMatchObject({ code: 'BAD_MESSAGE' })
    }
    const from = s.frames.length
    s.send({ type: 'push', clientId: 'c', mutations: [{ op: 'clear', mid: 1, if: { absent: true } }] })
    expect(await s.next('error', undefined, from)).toMatchObject({ code: 'BAD_MESSAGE' })
  })
})

describe('atomic batches on the server', () => {
  it('applies none of a batch when one condition fails, and all when every one holds', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'atomic')
    await push(s, 'c', [store(1, 'a', 1), store(2, 'b', 1)])
    const failed = await push(s, 'c', [store(3, 'a', 2, { rev: 1 }), store(4, 'b', 2, { rev: 1 }), store(5, 'c', 2)], { batch: { id: 'x', last: true } })
    expect(failed).toMatchObject([{ error: { code: 'CONFLICT' } }, { error: { code: 'CONFLICT', rev: 2 } }, { error: { code: 'CONFLICT' } }])
    const ok = await push(s, 'c', [store(6, 'a', 2, { rev: 1 }), store(7, 'b', 2, { rev: 2 }), store(8, 'c', 2, { absent: true })], { batch: { id: 'y', last: true } })
    expect(ok).toMatchObject([{ rev: 3 }, { rev: 4 }, { rev: 5 }])
  })

  it('applies none of a batch when one write is over the quota or invalid', async () => {
    await using server = await startCliServer({ args: ['--max-user-keys', '2'] })
    await using s = await connectUser(server, 'quota')
    const over = await push(s, 'c', [store(1, 'a', 1), store(2, 'b', 1), store(3, 'c', 1)], { batch: { id: 'q', last: true } })
    expect(over.every((r) => 'error' in r && r.error.code === 'QUOTA_EXCEEDED')).toBe(true)
    const invalid = await push(s, 'c', [store(4, 'a', 1), { op: 'store', mid: 5, key: '', value: '1' }], { batch: { id: 'i', last: true } })
    expect(invalid.every((r) => 'error' in r && r.error.code === 'INVALID_KEY')).toBe(true)
    expect(await push(s, 'c', [store(6, 'probe', 1)])).toMatchObject([{ rev: 1 }])
  })

  it('holds a batch sent over several frames until its last part, and drops it when the connection is cut before', async () => {
    await using server = await startCliServer()
    {
      await using s = await connectUser(server, 'parts')
      s.send({ type: 'push', clientId: 'c', mutations: [store(1, 'a', 1), store(2, 'b', 1)], batch: { id: 'p' } })
      s.send({ type: 'push', clientId: 'c', mutations: [store(3, 'c', 1)], batch: { id: 'p' } })
      await using probe = await connectUser(server, 'parts')
      expect(await push(probe, 'probe', [store(1, 'probe', 1)])).toMatchObject([{ rev: 1 }])
      expect(s.frames.filter((f) => f.type === 'ack')).toHaveLength(0)
    }
    await using s = await connectUser(server, 'parts', { cursor: 0 })
    expect(s.frames.flatMap((f) => (f.type === 'changes' ? f.changes : [])).map((c) => 'key' in c && c.key)).toEqual(['probe'])
    const from = s.frames.length
    s.send({ type: 'push', clientId: 'c', mutations: [store(1, 'a', 1), store(2, 'b', 1)], batch: { id: 'p' } })
    s.send({ type: 'push', clientId: 'c', mutations: [store(3, 'c', 1)], batch: { id: 'p', last: true } })
    await s.next('ack', (a) => a.results.some((r) => r.mid === 3), from)
    const acks = s.frames.slice(from).filter((f): f is AckMessage => f.type === 'ack')
    expect(acks.map((a) => a.results)).toEqual([[{ mid: 1, rev: 2 }, { mid: 2, rev: 3 }], [{ mid: 3, rev: 4 }]])
  })

  it('drops an open batch, answering its parts with BAD_MESSAGE, when a plain push comes before its last part', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'interleaved')
    const from = s.frames.length
    s.send({ type: 'push', clientId: 'c', mutations: [store(1, 'a', 1)], batch: { id: 'open' } })
    expect(await push(s, 'c', [store(2, 'b', 1)])).toMatchObject([{ mid: 2, rev: 1 }])
    const dropped = s.frames.slice(from).find((f): f is AckMessage => f.type === 'ack' && f.results.some((r) => r.mid === 1))
    expect(dropped?.results).toMatchObject([{ mid: 1, error: { code: 'BAD_MESSAGE' } }])
    // Nothing of the dropped batch was written, and the session goes on: a new batch is.
    expect(await push(s, 'd', [store(1, 'a', 1)], { batch: { id: 'again', last: true } })).toMatchObject([{ mid: 1, rev: 2 }])
  })

  it('refuses a batch over its bounds, whole, and answers every part', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'huge')
    const from = s.frames.length
    let mid = 0
    for (let part = 0; part < 11; part++) {
      s.send({ type: 'push', clientId: 'c', mutations: Array.from({ length: 1000 }, () => store(++mid, `k${mid}`, 1)), batch: { id: 'h' } })
    }
    await s.next('ack', (a) => a.results.some((r) => r.mid === 10_001), from)
    const results = s.frames.slice(from).flatMap((f) => (f.type === 'ack' ? f.results : []))
    expect(results).toHaveLength(11_000)
    expect(results.every((r) => 'error' in r && r.error.code === 'MESSAGE_TOO_LARGE')).toBe(true)
    expect(await push(s, 'd', [store(1, 'probe', 1)])).toMatchObject([{ rev: 1 }])
  })
})

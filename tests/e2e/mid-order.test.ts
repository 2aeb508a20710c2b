import { encodeValue, type AckMessage, type Mutation } from '@cubby/protocol'
import { connectUser, startCliServer, type CliServer, type RawSocket } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'

/** Sends a push and waits for its ack (the first ack for `clientId` whose results hold `mutations[0]`'s mid). */
async function push(socket: RawSocket, clientId: string, mutations: Mutation[], extra: Record<string, unknown> = {}): Promise<AckMessage['results']> {
  const from = socket.frames.length
  socket.send({ type: 'push', clientId, mutations, ...extra })
  const ack = await socket.next('ack', (a) => a.clientId === clientId && a.results.some((r) => r.mid === mutations[0]!.mid), from)
  return ack.results
}

const store = (mid: number, key: string): Mutation => ({ op: 'store', mid, key, value: encodeValue(`v${mid}`) })

/** The server's value of `key` for `userId` over HTTP, `undefined` when it has none. */
async function valueOf(server: CliServer, userId: string, key: string): Promise<string | undefined> {
  const res = await fetch(`${server.url}/v1/values/${key}`, { headers: { authorization: `Bearer ${server.token(userId)}` } })
  if (res.status === 404) return undefined
  expect(res.status).toBe(200)
  return (await res.text())
}

const OUT_OF_ORDER = { error: { code: 'OUT_OF_ORDER' } }

describe('the order of a client id\'s mids (issue 14)', () => {
  it('refuses a mid that comes after a higher one of its client id on the same connection, and writes nothing of its push', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'order')
    expect(await push(s, 'c', [store(2, 'b')])).toMatchObject([{ mid: 2, rev: 1 }])
    // Before, mid 1 was taken as a retry of an applied write: acknowledged, never written.
    expect(await push(s, 'c', [store(1, 'a'), store(3, 'c')])).toMatchObject([{ mid: 1, ...OUT_OF_ORDER }, { mid: 3, ...OUT_OF_ORDER }])
    expect(await push(s, 'c', [store(2, 'b2')])).toMatchObject([{ mid: 2, ...OUT_OF_ORDER }])
    expect(await valueOf(server, 'order', 'a')).toBeUndefined()
    expect(await valueOf(server, 'order', 'c')).toBeUndefined()
    // A refused push leaves the connection as it was: the next mid goes through.
    expect(await push(s, 'c', [store(3, 'c')])).toMatchObject([{ mid: 3, rev: 2 }])
    expect(s.frames.filter((f) => f.type === 'error')).toEqual([])
  })

  it('refuses every part of an atomic batch that starts below a mid already pushed', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'batch')
    expect(await push(s, 'c', [store(5, 'x')])).toMatchObject([{ mid: 5, rev: 1 }])
    const from = s.frames.length
    s.send({ type: 'push', clientId: 'c', mutations: [store(3, 'p')], batch: { id: 'b' } })
    s.send({ type: 'push', clientId: 'c', mutations: [store(6, 'q')], batch: { id: 'b', last: true } })
    const first = await s.next('ack', (a) => a.results[0]!.mid === 3, from)
    const last = await s.next('ack', (a) => a.results[0]!.mid === 6, from)
    expect([...first.results, ...last.results]).toMatchObject([{ mid: 3, ...OUT_OF_ORDER }, { mid: 6, ...OUT_OF_ORDER }])
    expect(await valueOf(server, 'batch', 'q')).toBeUndefined()
  })

  it('takes gaps (mids that never come) and keeps each client id\'s order apart', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'gaps')
    expect(await push(s, 'a', [store(1, 'a1')])).toMatchObject([{ mid: 1, rev: 1 }])
    expect(await push(s, 'a', [store(7, 'a7')])).toMatchObject([{ mid: 7, rev: 2 }])
    expect(await push(s, 'b', [store(1, 'b1')])).toMatchObject([{ mid: 1, rev: 3 }])
    expect(await valueOf(server, 'gaps', 'a7')).toBeDefined()
  })

  it('takes a push sent again on a new connection as a retry, not as out of order', async () => {
    await using server = await startCliServer()
    {
      await using s = await connectUser(server, 'retry')
      expect(await push(s, 'c', [store(1, 'k'), store(2, 'l')])).toMatchObject([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }])
    }
    await using s = await connectUser(server, 'retry')
    expect(await push(s, 'c', [store(1, 'k'), store(2, 'l')])).toMatchObject([{ mid: 1, rev: 2 }, { mid: 2, rev: 2 }])
    expect(await push(s, 'c', [store(3, 'm')])).toMatchObject([{ mid: 3, rev: 3 }])
  })

  it('remembers the 64 client ids that pushed last on a connection, and forgets the one before them', async () => {
    await using server = await startCliServer()
    await using s = await connectUser(server, 'bound')
    expect(await push(s, 'first', [store(5, 'f')])).toMatchObject([{ mid: 5, rev: 1 }])
    expect(await push(s, 'second', [store(5, 's')])).toMatchObject([{ mid: 5, rev: 2 }])
    for (let i = 0; i < 63; i++) await push(s, `other-${i}`, [store(1, `o${i}`)])
    // 'second' is among the 64 and still checked; 'first' was forgotten, so its lower mid is taken for a retry again.
    expect(await push(s, 'second', [store(4, 's')])).toMatchObject([{ mid: 4, ...OUT_OF_ORDER }])
    expect(await push(s, 'first', [store(4, 'f')])).toMatchObject([{ mid: 4, rev: 1 }])
  })
})

import { connectUser, openRawSocket } from '@cubby/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { answerToHello, DEPLOYMENTS, forgedTokens, seed, stateOf, type Deployment, type Side } from './attack.js'

/**
 * Isolation over WebSocket, against the real cubby-server process: a client holding mallory's token (or none)
 * never reads, lists, changes or hears of bob's values, whatever it sends. Run against one LevelDB node and
 * against two `--redis` nodes, with the attacker on one node and bob on the other.
 */

/**
 * Keys and user ids built from the path and storage separators: `/`, `%2F`, `..`, NUL and the length prefix of
 * the LevelDB layout, and the braces, hash tags (`{626f62}` is bob's) and `:` suffixes of the Redis layout.
 */
const HOSTILE_KEYS = ['secret', '/', '%2F', '..', '../bob/secret', '..%2Fbob%2Fsecret', '\u0000', 'secret\u0000', '\u0000secret',
  '3:bob\u0000secret', 'd3:bob\u0000secret', '\u0000d3:bob\u0000secret', 'l3:bob\u0000', 'm3:bob\u0000', '\u0001', '\uffff',
  '{', '}', '{61}', '{626f62}', '{626f62}:d', '}:d', 'ksecret', ':m', '{bob}secret']
const HOSTILE_USERS = ['bob\u0000', '3:bob', 'bo', 'bob/', '../bob', '%2Fbob', 'bob%00', 'b', '3:bob\u0000secret', 'bob\u0000secret', 'Bob',
  '{', '}', '{61}', '{bob}', '626f62', '{626f62}', '}{626f62}', 'bob}', '{626f62}:m', '626f62}:d']

describe.each(DEPLOYMENTS)('isolation over WebSocket: %s', (_name, start) => {
  let deployment: Deployment
  /** Where the attacker connects, and where bob connects (the same node with one LevelDB node). */
  let attacker: Side
  let victim: Side
  let bobBefore: Awaited<ReturnType<typeof stateOf>>

  beforeAll(async () => {
    deployment = await start()
    ;({ attacker, victim } = deployment)
    await seed(victim, 'bob', Object.fromEntries(HOSTILE_KEYS.map((k) => [k, { owner: 'bob', k }])))
    await seed(victim, 'bob', { gone: 1 })
    const res = await fetch(`${victim.url}/v1/values/gone`, { method: 'DELETE', headers: { authorization: `Bearer ${victim.token('bob')}` } })
    expect(res.status).toBe(200)
    bobBefore = await stateOf(victim, 'bob')
    expect(bobBefore.changes).toHaveLength(HOSTILE_KEYS.length + 1)
  }, 60_000)

  afterAll(async () => {
    if (deployment === undefined) return
    try {
      // Whatever each test sent, bob's values, revisions and tombstones are exactly as they were, on every node.
      expect(await stateOf(victim, 'bob')).toEqual(bobBefore)
      expect(await stateOf(attacker, 'bob')).toEqual(bobBefore)
    } finally {
      await deployment[Symbol.asyncDispose]()
    }
  })

    it('refuses every forged token alike, whether the user it names exists or not', async () => {
      const forBob = forgedTokens(attacker, 'bob')
      const forNobody = forgedTokens(attacker, 'nobody-by-this-name')
      const { huge, ...forgeries } = forBob
      for (const [name, token] of Object.entries(forgeries)) {
        const bob = await answerToHello(attacker.url, { type: 'hello', v: 1, token, cursor: 0 })
        const nobody = await answerToHello(attacker.url, { type: 'hello', v: 1, token: forNobody[name]!, cursor: 0 })
        // Only a token whose signature checked out may be called expired.
        const reason = name === 'expired' ? 'expired' : 'invalid'
        expect(bob, name).toEqual({ frames: [{ type: 'error', code: 'UNAUTHORIZED', message: expect.any(String), reason }], close: 4001 })
        expect(nobody, name).toEqual(bob)
      }
      // A hello of 200 kB passes the hello limit (64 KiB) and is refused before it is read.
      const tooBig = await answerToHello(attacker.url, { type: 'hello', v: 1, token: huge!, cursor: 0 })
      expect(tooBig).toEqual({ frames: [{ type: 'error', code: 'MESSAGE_TOO_LARGE', message: expect.any(String) }], close: 1009 })
      // A token that is not a string does not even parse.
      const array = await answerToHello(attacker.url, { type: 'hello', v: 1, token: [attacker.token('bob')], cursor: 0 })
      expect(array).toEqual({ frames: [{ type: 'error', code: 'BAD_MESSAGE', message: expect.any(String) }], close: 4003 })
    })

    it('acts on the token\'s user only, with bob\'s id in every field of every message', async () => {
      await using mallory = await openRawSocket(attacker.url)
      mallory.send({ type: 'hello', v: 1, token: attacker.token('mallory'), cursor: 0, userId: 'bob', user: 'bob', sub: 'bob', as: 'bob' })
      expect((await mallory.next('welcome')).userId).toBe('mallory')
      await mallory.next('synced')
      const bobField = { userId: 'bob', user: 'bob', sub: 'bob', owner: 'bob', namespace: 'bob' }
      mallory.send({
        type: 'push', clientId: 'bob', ...bobField,
        mutations: [
          { op: 'store', mid: 1, key: 'secret', value: '"mallory was here"', ...bobField },
          { op: 'store', mid: 2, key: 'bob/secret', value: '"mallory"', ...bobField },
          { op: 'delete', mid: 3, key: '..', ...bobField },
          { op: 'clear', mid: 4, ...bobField },
          { op: 'store', mid: 5, key: 'after-clear', value: '"mallory"', ...bobField },
        ],
      })
      const ack = await mallory.next('ack')
      expect(ack.results).toEqual([1, 2, 3, 4, 5].map((mid) => ({ mid, rev: mid })))
      expect(await stateOf(victim, 'mallory')).toEqual({ head: 5, changes: [{ rev: 4, clear: true }, { rev: 5, key: 'after-clear', value: '"mallory"' }] })
    })

    it('keeps hostile keys and user ids made of separators in their own namespace', async () => {
      for (const user of HOSTILE_USERS) {
        await using socket = await connectUser(attacker, user)
        socket.send({
          type: 'push', clientId: 'c',
          mutations: HOSTILE_KEYS.map((key, i) => ({ op: 'store', mid: i + 1, key, value: JSON.stringify(user) })),
        })
        await socket.next('ack')
        socket.send({ type: 'push', clientId: 'c', mutations: [{ op: 'delete', mid: 100, key: 'secret' }] })
        await socket.next('ack', (f) => (f.results as Array<{ mid: number }>)[0]!.mid === 100)
        const { changes } = await stateOf(victim, user)
        expect(changes.filter((c) => 'value' in (c as object)).map((c) => (c as { value: string }).value), user)
          .toEqual(Array(HOSTILE_KEYS.length - 1).fill(JSON.stringify(user)))
      }
      // Clearing a user whose id extends bob's (or that bob's id extends) leaves bob alone; afterAll checks him.
      for (const user of ['bob\u0000', 'bo', '3:bob']) {
        await using socket = await connectUser(attacker, user)
        socket.send({ type: 'push', clientId: 'c', mutations: [{ op: 'clear', mid: 1 }] })
        await socket.next('ack')
      }
    })

    it('never delivers bob\'s changes to another user\'s session, whatever cursor it claims, on any node', async () => {
      const head = bobBefore.head
      // Eve's sessions on both nodes; a session of bob's on the attacker's node too, so that node follows bob's
      // changes (on Redis: subscribes to his channel) and must route them to his sessions only.
      const eves = await Promise.all([attacker, victim].flatMap((node) => [0, head, head - 1, 1e9].map(async (cursor) => {
        const socket = await openRawSocket(node.url)
        socket.hello(node.token('eve'), cursor)
        await socket.next('synced')
        return socket
      })))
      try {
        await using bobWatching = await connectUser(attacker, 'bob')
        await using bob = await connectUser(victim, 'bob')
        bob.send({ type: 'push', clientId: 'bob-live', mutations: [{ op: 'store', mid: 1, key: 'live', value: '"bob only"' }] })
        const bobAck = await bob.next('ack')
        await bobWatching.next('changes', (f) => JSON.stringify(f).includes('bob only'))
        // Changes go out in commit order: once eve's own later write reaches her sessions, bob's would have too.
        await using eve = await connectUser(victim, 'eve')
        eve.send({ type: 'push', clientId: 'eve', mutations: [{ op: 'store', mid: 1, key: 'marker', value: '1' }] })
        for (const socket of eves) await socket.next('changes', (f) => JSON.stringify(f).includes('marker'))
        for (const socket of eves) expect(JSON.stringify(socket.frames)).not.toMatch(/bob|live|secret/)
        // Bob's live write is his; put him back to where he was for afterAll.
        const rev = (bobAck.results as Array<{ rev: number }>)[0]!.rev
        expect(rev).toBe(head + 1)
      } finally {
        for (const socket of eves) await socket[Symbol.asyncDispose]()
      }
      bobBefore = await stateOf(victim, 'bob')
    })

    it('scopes mutation ids to the user: a replayed push of bob\'s lands in the replayer\'s own namespace', async () => {
      await using bob = await connectUser(victim, 'bob')
      const bobPush = { type: 'push', clientId: 'bob-phone', mutations: [{ op: 'store', mid: 7, key: 'replayed', value: '"bob"' }] }
      bob.send(bobPush)
      await bob.next('ack')
      bobBefore = await stateOf(victim, 'bob')

      await using mallory = await connectUser(attacker, 'replayer')
      mallory.send(bobPush)
      expect((await mallory.next('ack')).results).toEqual([{ mid: 7, rev: 1 }])
      // Mallory takes bob's client id far ahead; bob's next write from that client still applies.
      mallory.send({ type: 'push', clientId: 'bob-phone', mutations: [{ op: 'store', mid: 1_000_000, key: 'k', value: '1' }] })
      await mallory.next('ack', (f) => (f.results as Array<{ mid: number }>)[0]!.mid === 1_000_000)
      bob.send({ type: 'push', clientId: 'bob-phone', mutations: [{ op: 'store', mid: 8, key: 'replayed', value: '"bob again"' }] })
      const ack = await bob.next('ack', (f) => (f.results as Array<{ mid: number }>)[0]!.mid === 8)
      expect(ack.results).toEqual([{ mid: 8, rev: bobBefore.head + 1 }])
      // And bob's own retry of a mid he already used is still recognised (exactly once, per user). A client
      // retries after a reconnect: on the same connection a mid at or below one pushed there is OUT_OF_ORDER.
      await using bobAgain = await connectUser(victim, 'bob')
      bobAgain.send({ type: 'push', clientId: 'bob-phone', mutations: [{ op: 'store', mid: 8, key: 'replayed', value: '"dup"' }] })
      expect((await bobAgain.next('ack')).results).toEqual([{ mid: 8, rev: bobBefore.head + 1 }])
      bobBefore = await stateOf(victim, 'bob')
      expect(bobBefore.changes.at(-1)).toEqual({ rev: bobBefore.head, key: 'replayed', value: '"bob again"' })
    })

    it('refuses a second hello on an open session instead of switching users', async () => {
      await using mallory = await connectUser(attacker, 'mallory2')
      mallory.send({ type: 'hello', v: 1, token: attacker.token('bob'), cursor: 0 })
      expect((await mallory.next('error')).code).toBe('BAD_MESSAGE')
      mallory.send({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'secret', value: '"x"' }] })
      await mallory.next('ack')
      expect(mallory.frames.filter((f) => f.type === 'welcome').map((f) => f.userId)).toEqual(['mallory2'])
      expect(JSON.stringify(mallory.frames)).not.toContain('owner')
    })
})

import type { Change, ChangesMessage, Mutation } from '@cubby/protocol'
import { encodeValue } from '@cubby/protocol'
import { expect, it } from 'vitest'
import { connectUser, startTestServer } from '@cubby/test-utils'

const store = (mid: number, key: string, value: unknown): Mutation => ({ op: 'store', mid, key, value: encodeValue(value) })

/** Applies changes the way a client does. */
function replay(changes: Change[]): Map<string, string> {
  const state = new Map<string, string>()
  for (const c of changes) {
    if ('clear' in c) state.clear()
    else if ('deleted' in c) state.delete(c.key)
    else state.set(c.key, c.value)
  }
  return state
}

it('ends a client that connects during heavy writing in exactly the server state', async () => {
  await using server = await startTestServer({ pullBatchSize: 50 })
  const { cubby } = server
  await Promise.all(Array.from({ length: 1000 }, (_, i) => cubby.store('alice', `k${i}`, i)))
  const writes: Array<Promise<number>> = []
  for (let i = 0; i < 600; i++) {
    const key = `k${(i * 7) % 1200}`
    writes.push(i === 300 ? cubby.clear('alice') : i % 5 === 0 ? cubby.delete('alice', key) : cubby.store('alice', key, `v${i}`))
  }
  await using reader = await connectUser(server, 'alice')
  const head = Math.max(...(await Promise.all(writes)))
  await reader.next('changes', (m) => m.rev === head)
  const frames = reader.frames.filter((m): m is ChangesMessage => m.type === 'changes')
  const changes = frames.flatMap((m) => m.changes)
  // Each change once; the frames never move the cursor back; after the snapshot's last frame (the first that moves
  // the cursor), in revision order.
  const revs = changes.map((c) => c.rev)
  expect(new Set(revs).size).toBe(revs.length)
  expect(frames.map((m) => m.rev)).toEqual(frames.map((m) => m.rev).sort((a, b) => a - b))
  const live = frames.slice(frames.findIndex((m) => m.rev > 0) + 1).flatMap((m) => m.changes.map((c) => c.rev))
  expect(live).toEqual([...live].sort((a, b) => a - b))
  const expected = new Map((await cubby.entries('alice')).map(([k, v]) => [k, JSON.stringify(v)]))
  expect(replay(changes)).toEqual(expected)
})

it('answers pushes of sessions without echo so that their acks stand for their changes, under concurrent writers', async () => {
  await using server = await startTestServer()
  const { cubby } = server
  await Promise.all(Array.from({ length: 50 }, (_, i) => cubby.store('alice', `k${i}`, -i)))
  /** A client that takes its acks as its own changes, the way @cubby/client does with `echo: false`. */
  const client = async (clientId: string) => {
    const socket = await connectUser(server, 'alice', { cursor: 0, echo: false })
    const state = new Map<string, { rev: number; value: string }>()
    const sent = new Map<number, Mutation>()
    const seenRevs = new Set<number>()
    let cursor = 0
    let frames = 0
    const violations: string[] = []
    const apply = (): void => {
      for (; frames < socket.frames.length; frames++) {
        const m = socket.frames[frames]!
        if (m.type === 'changes') {
          for (const c of m.changes) {
            seenRevs.add(c.rev)
            if (c.rev <= cursor) continue
            if ('clear' in c) state.clear()
            else if ('deleted' in c) state.delete(c.key)
            else state.set(c.key, { rev: c.rev, value: c.value })
          }
          cursor = Math.max(cursor, m.rev)
        } else if (m.type === 'ack') {
          for (const r of m.results) {
            if (!('rev' in r)) continue
            const mutation = sent.get(r.mid)!
            // Every result is either a change this session was sent, or above everything it was sent.
            if (r.rev <= cursor) {
              if (!seenRevs.has(r.rev)) violations.push(`mid ${r.mid} acked at ${r.rev} with the cursor at ${cursor}`)
              continue
            }
            if (mutation.op === 'clear') for (const [k, e] of state) { if (e.rev < r.rev) state.delete(k) }
            else if (mutation.op === 'delete') state.delete(mutation.key)
            else state.set(mutation.key, { rev: r.rev, value: mutation.value })
          }
          cursor = Math.max(cursor, ...m.results.map((r) => ('rev' in r ? r.rev : 0)))
        }
      }
    }
    return { socket, state, sent, violations, apply, cursor: () => cursor, clientId }
  }
  const a = await client('a')
  const b = await client('b')
  let mid = 0
  for (let round = 0; round < 100; round++) {
    for (const c of [a, b]) {
      const mutations: Mutation[] = [
        store(++mid, `k${(round * 7) % 60}`, `${c.clientId}${round}`),
        round === 50 && c === a ? { op: 'clear', mid: ++mid } : { op: 'delete', mid: ++mid, key: `k${(round * 11) % 60}` },
        store(++mid, `k${(round * 13) % 60}`, round),
      ]
      for (const m of mutations) c.sent.set(m.mid, m)
      c.socket.send({ type: 'push', clientId: c.clientId, mutations })
    }
    if (round % 10 === 0) await cubby.store('alice', `server${round}`, round)
  }
  for (const c of [a, b]) await c.socket.next('ack', (m) => m.results.some((r) => r.mid === Math.max(...c.sent.keys())))
  const head = await cubby.store('alice', 'last', true)
  for (const c of [a, b]) {
    await c.socket.next('changes', (m) => m.rev === head)
    c.apply()
    expect(c.violations).toEqual([])
    expect(c.cursor()).toBe(head)
    const expected = new Map((await cubby.entries('alice')).map(([k, v]) => [k, JSON.stringify(v)]))
    expect(new Map([...c.state].map(([k, e]) => [k, e.value]))).toEqual(expected)
  }
  await a.socket[Symbol.asyncDispose]()
  await b.socket[Symbol.asyncDispose]()
})

import type { MergeAnswer } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import type { CacheSnapshot, OutboxEntry } from '../cache/CubbyCache.js'
import { carryOver } from './carryOver.js'

const entry = (key: string, value: unknown, rev: number, expiresAt?: number): CacheSnapshot['entries'][number] =>
  ({ key, rev, value: JSON.stringify(value), ...(expiresAt === undefined ? {} : { expiresAt }) })
const write = (clientId: string, mid: number, key: string): OutboxEntry =>
  ({ seq: mid, clientId, mutation: { op: 'store', mid, key, value: '1' } })
const answer = (written: number, conflicts: string[], head = 10): MergeAnswer => ({ account: 'a', anonymous: 'anon_x', head, written, conflicts, clients: 1 })
const snapshot = (entries: CacheSnapshot['entries'], outbox: OutboxEntry[] = []): CacheSnapshot => ({ entries, outbox, cursor: 5 })
const none = { all: [], unacknowledged: [] }

describe('carryOver', () => {
  it('gives the values the merge wrote their revisions, in key order up to head, leaving out conflicts under prefer: account', () => {
    const anonymous = snapshot([entry('b', 2, 3), entry('theme', 'dark', 4), entry('a', 1, 1)])
    const { putEntries } = carryOver(anonymous, none, { answer: answer(2, ['theme']), prefer: 'account', now: 0 })
    expect(putEntries).toEqual([entry('a', 1, 9), entry('b', 2, 10)])
  })

  it('carries conflicts too under prefer: anonymous, and orders keys by code point', () => {
    const anonymous = snapshot([entry('\u{1F600}', 1, 1), entry('\uFFFF', 2, 2), entry('theme', 'dark', 3)])
    const { putEntries } = carryOver(anonymous, none, { answer: answer(3, ['theme']), prefer: 'anonymous', now: 0 })
    expect(putEntries?.map((e) => [e.key, e.rev])).toEqual([['theme', 8], ['\uFFFF', 9], ['\u{1F600}', 10]])
  })

  it('leaves expired values out, and gives revision 0 when the device\'s count differs from the server\'s', () => {
    const anonymous = snapshot([entry('gone', 1, 1, 1_000), entry('a', 1, 2), entry('b', 1, 3)])
    const { putEntries } = carryOver(anonymous, none, { answer: answer(3, []), prefer: 'account', now: 2_000 })
    expect(putEntries?.map((e) => [e.key, e.rev])).toEqual([['a', 0], ['b', 0]])
  })

  it('carries every write not known to be acknowledged, stored or in memory only, under its own client id and mid', () => {
    const stored = [write('c1', 1, 'x'), write('c1', 2, 'y'), write('c2', 1, 'z')]
    const memory = { all: [...stored, write('c2', 2, 'w')], unacknowledged: [write('c1', 2, 'y'), write('c2', 1, 'z'), write('c2', 2, 'w')] }
    const { outboxPut } = carryOver(snapshot([], stored), memory, { answer: answer(0, []), prefer: 'account', now: 0 })
    expect(outboxPut).toEqual([write('c1', 2, 'y'), write('c2', 1, 'z'), write('c2', 2, 'w')])
  })
})

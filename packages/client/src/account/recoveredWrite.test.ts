import type { MergeAnswer } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import type { CacheSnapshot, OutboxEntry } from '../cache/CubbyCache.js'
import { recoveredWrite } from './recoveredWrite.js'

const entry = (key: string, value: unknown, rev: number): CacheSnapshot['entries'][number] => ({ key, rev, value: JSON.stringify(value) })
const write = (clientId: string, mid: number, key: string): OutboxEntry => ({ seq: mid, clientId, mutation: { op: 'store', mid, key, value: '1' } })
const answer = (written: number, conflicts: string[], clients: number, head = 10): MergeAnswer => ({ account: 'a', anonymous: 'anon_x', head, written, conflicts, clients })
const anonymous: CacheSnapshot = { entries: [entry('a', 1, 1), entry('theme', 'dark', 2)], outbox: [write('c1', 3, 'x'), write('c2', 1, 'y')], cursor: 2 }
const rule = { prefer: 'account', now: 0 } as const

describe('recoveredWrite', () => {
  it('carries the values this merge kept, at their revisions, and every stored pending write', () => {
    expect(recoveredWrite(anonymous, answer(1, ['theme'], 2), rule)).toEqual({ putEntries: [entry('a', 1, 10)], outboxPut: anonymous.outbox })
  })

  it('carries only the pending writes when the server refused the proof: its user was merged before', () => {
    expect(recoveredWrite(anonymous, 'gone', rule)).toEqual({ outboxPut: anonymous.outbox })
  })

  it('carries only the pending writes when the merge found nothing to move (a deleted self-certified user signs new tokens)', () => {
    expect(recoveredWrite(anonymous, answer(0, [], 0), { prefer: 'anonymous', now: 0 })).toEqual({ outboxPut: anonymous.outbox })
  })

  it('carries values when the merge moved only exactly-once records or conflicts', () => {
    expect(recoveredWrite(anonymous, answer(0, ['a', 'theme'], 1), rule).putEntries).toEqual([])
    expect(recoveredWrite(anonymous, answer(2, ['a', 'theme'], 0), { prefer: 'anonymous', now: 0 }).putEntries).toEqual([entry('a', 1, 9), entry('theme', 'dark', 10)])
  })
})

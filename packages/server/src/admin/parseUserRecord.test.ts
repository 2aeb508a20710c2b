import { DEFAULT_LIMITS } from '@cubby/protocol'
import { expect, it } from 'vitest'
import { parseUserRecord } from './parseUserRecord.js'

const parse = (record: unknown): unknown => parseUserRecord(JSON.stringify(record), 3, DEFAULT_LIMITS)

it('parses an exactly-once record of a client', () => {
  expect(parse({ type: 'client', clientId: 'laptop', mid: 17, rev: 42 })).toEqual({ type: 'client', clientId: 'laptop', mid: 17, rev: 42 })
})

it('rejects a client record without a usable clientId, mid or rev, naming the line', () => {
  for (const bad of [
    { type: 'client', clientId: '', mid: 1, rev: 1 },
    { type: 'client', clientId: '\uD800', mid: 1, rev: 1 },
    { type: 'client', clientId: 7, mid: 1, rev: 1 },
    { type: 'client', clientId: 'c', mid: 0, rev: 1 },
    { type: 'client', clientId: 'c', mid: 1.5, rev: 1 },
    { type: 'client', clientId: 'c', mid: 1, rev: -1 },
    { type: 'client', clientId: 'c', mid: 1 },
  ]) {
    expect(() => parse(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE', message: expect.stringMatching(/^Line 3: /) }))
  }
})

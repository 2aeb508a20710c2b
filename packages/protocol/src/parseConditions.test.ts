import { describe, expect, it } from 'vitest'
import { MAX_BATCH_ID_LENGTH, parseClientMessage, parseServerMessage } from './index.js'

const push = (extra: Record<string, unknown>, mutation: Record<string, unknown> = { op: 'store', mid: 1, key: 'k', value: '1' }): string =>
  JSON.stringify({ type: 'push', clientId: 'c', mutations: [mutation], ...extra })

describe('conditions and batches on the wire', () => {
  it('parses a store or delete condition and a batch marker', () => {
    expect(parseClientMessage(push({}, { op: 'store', mid: 1, key: 'k', value: '1', if: { rev: 3 } }))).toMatchObject({ mutations: [{ if: { rev: 3 } }] })
    expect(parseClientMessage(push({}, { op: 'delete', mid: 1, key: 'k', if: { absent: true } }))).toMatchObject({ mutations: [{ if: { absent: true } }] })
    expect(parseClientMessage(push({ batch: { id: 'b' } }))).toMatchObject({ batch: { id: 'b' } })
    expect(parseClientMessage(push({ batch: { id: 'b', last: true } }))).toMatchObject({ batch: { id: 'b', last: true } })
  })

  it('refuses any other condition or batch shape with BAD_MESSAGE', () => {
    for (const condition of [{}, { rev: 0 }, { rev: 1.5 }, { rev: -1 }, { absent: 'yes' }, { rev: 1, absent: true }, [], 'absent']) {
      expect(() => parseClientMessage(push({}, { op: 'store', mid: 1, key: 'k', value: '1', if: condition }))).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }))
    }
    for (const batch of [null, {}, { id: '' }, { id: 'x'.repeat(MAX_BATCH_ID_LENGTH + 1) }, { id: 'b', last: false }, { id: 'b', more: 1 }, { id: '\uD800' }, 'b']) {
      expect(() => parseClientMessage(push({ batch }))).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }))
    }
  })

  it('keeps a CONFLICT result\'s version on the client side', () => {
    const ack = parseServerMessage(JSON.stringify({ type: 'ack', clientId: 'c', results: [{ mid: 1, error: { code: 'CONFLICT', message: 'm', rev: 7 } }] }))
    expect(ack).toEqual({ type: 'ack', clientId: 'c', results: [{ mid: 1, error: { code: 'CONFLICT', message: 'm', rev: 7 } }] })
  })
})

import { describe, expect, it } from 'vitest'
import { isCubbyError } from './CubbyError.js'
import { parseClientMessage, parseServerMessage } from './parseMessage.js'

const rejects = (frame: string): void => {
  let error: unknown
  try {
    parseServerMessage(frame)
  } catch (e) {
    error = e
  }
  expect(isCubbyError(error, 'BAD_MESSAGE')).toBe(true)
}

describe('parseServerMessage', () => {
  it('parses a changes frame into its three kinds of change', () => {
    const frame = '{"type":"changes","rev":3,"changes":[{"rev":1,"key":"a","value":"1"},{"rev":2,"key":"b","deleted":true},{"rev":3,"clear":true}]}'
    expect(parseServerMessage(frame)).toEqual({
      type: 'changes',
      rev: 3,
      changes: [{ rev: 1, key: 'a', value: '1' }, { rev: 2, key: 'b', deleted: true }, { rev: 3, clear: true }],
    })
  })

  it('gives a value change no deleted or clear marker, whatever false ones the frame carried', () => {
    const frame = '{"type":"changes","rev":2,"changes":[{"rev":1,"key":"a","value":"1","deleted":false},{"rev":2,"key":"b","value":"2","clear":null}]}'
    const message = parseServerMessage(frame)
    if (message.type !== 'changes') throw new Error('expected changes')
    expect(message.changes.map((c) => 'deleted' in c || 'clear' in c)).toEqual([false, false])
    expect(message.changes).toEqual([{ rev: 1, key: 'a', value: '1' }, { rev: 2, key: 'b', value: '2' }])
  })

  it('rejects malformed frames with BAD_MESSAGE', () => {
    rejects('not json')
    rejects('[]')
    rejects('{"type":"nope"}')
    rejects('{"type":"changes","rev":1}')
    rejects('{"type":"changes","rev":-1,"changes":[]}')
    rejects('{"type":"changes","rev":1,"changes":[null]}')
    rejects('{"type":"changes","rev":1,"changes":[{"rev":1.5,"key":"a","value":"1"}]}')
    rejects('{"type":"changes","rev":1,"changes":[{"rev":1,"key":2,"value":"1"}]}')
    rejects('{"type":"changes","rev":1,"changes":[{"rev":1,"key":"a","value":1}]}')
    rejects('{"type":"changes","rev":1,"changes":[{"rev":1,"key":"a"}]}')
    rejects('{"type":"ack","clientId":"c","results":[{"mid":0,"rev":1}]}')
    rejects('{"type":"synced"}')
  })
})

describe('parseClientMessage: hello', () => {
  it('keeps echo only when a client turns it off, and rejects anything but a boolean', () => {
    expect(parseClientMessage('{"type":"hello","v":1,"token":"t","cursor":0}')).toStrictEqual({ type: 'hello', v: 1, token: 't', cursor: 0 })
    expect(parseClientMessage('{"type":"hello","v":1,"token":"t","cursor":0,"echo":true}')).toStrictEqual({ type: 'hello', v: 1, token: 't', cursor: 0 })
    expect(parseClientMessage('{"type":"hello","v":1,"token":"t","cursor":3,"echo":false}')).toStrictEqual({ type: 'hello', v: 1, token: 't', cursor: 3, echo: false })
    for (const echo of ['0', '"false"', 'null', '{}']) {
      let error: unknown
      try {
        parseClientMessage(`{"type":"hello","v":1,"token":"t","cursor":0,"echo":${echo}}`)
      } catch (e) {
        error = e
      }
      expect(isCubbyError(error, 'BAD_MESSAGE')).toBe(true)
    }
  })
})

describe('ping and pong', () => {
  it('parses a ping from a client and a pong from a server, whatever else they carry', () => {
    expect(parseClientMessage('{"type":"ping","extra":1}')).toStrictEqual({ type: 'ping' })
    expect(parseServerMessage('{"type":"pong","extra":1}')).toStrictEqual({ type: 'pong' })
  })
})

describe('parseClientMessage: push', () => {
  it('rejects a client id that is not well-formed Unicode, which would share a record once stored as UTF-8', () => {
    const push = (clientId: string): string => JSON.stringify({ type: 'push', clientId, mutations: [{ op: 'clear', mid: 1 }] })
    for (const clientId of ['\uD800', '\uDC00', 'a\uDBFF', '\uDFFFb']) {
      expect(() => parseClientMessage(push(clientId)), JSON.stringify(clientId)).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }))
    }
    expect(parseClientMessage(push('\uD83D\uDE00'))).toMatchObject({ clientId: '\uD83D\uDE00' })
  })
})

describe('parseServerMessage: errors', () => {
  it('keeps a known reason of UNAUTHORIZED and drops an unknown one', () => {
    expect(parseServerMessage('{"type":"error","code":"UNAUTHORIZED","message":"m","reason":"expired"}'))
      .toStrictEqual({ type: 'error', code: 'UNAUTHORIZED', message: 'm', reason: 'expired' })
    expect(parseServerMessage('{"type":"error","code":"UNAUTHORIZED","message":"m","reason":"nope"}'))
      .toStrictEqual({ type: 'error', code: 'UNAUTHORIZED', message: 'm' })
  })
})

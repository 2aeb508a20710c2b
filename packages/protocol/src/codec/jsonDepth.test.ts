import { describe, expect, it } from 'vitest'
import { isCubbyError } from '../CubbyError.js'
import { parseClientMessage } from '../parseMessage.js'
import { decodeValue, encodeValue } from '../valueCodec.js'
import { isJsonDeeperThan } from './jsonDepth.js'
import { ERRORS } from './shared.js'

const nested = (depth: number, open = '[', close = ']'): string => open.repeat(depth) + close.repeat(depth)

describe('isJsonDeeperThan', () => {
  it('counts arrays and objects, and not brackets inside strings or after escapes', () => {
    expect(isJsonDeeperThan(nested(3), 3)).toBe(false)
    expect(isJsonDeeperThan(nested(4), 3)).toBe(true)
    expect(isJsonDeeperThan('{"a":{"b":[1]}}', 3)).toBe(false)
    expect(isJsonDeeperThan('{"a":{"b":[{}]}}', 3)).toBe(true)
    expect(isJsonDeeperThan(`["${'[{'.repeat(50)}\\"${'['.repeat(50)}"]`, 1)).toBe(false)
    expect(isJsonDeeperThan('[[],[],[],[]]', 2)).toBe(false)
  })
})

describe('depth limits before parsing', () => {
  it('rejects a deeply nested frame with BAD_MESSAGE before JSON.parse sees it', () => {
    const frame = `{"type":"push","clientId":"c","mutations":${nested(2_000_000)}}`
    const parse = JSON.parse
    let parsed = 0
    JSON.parse = ((text: string): unknown => (parsed++, parse(text))) as typeof JSON.parse
    try {
      expect(() => parseClientMessage(frame)).toThrow(/nested deeper than 16/)
    } finally {
      JSON.parse = parse
    }
    expect(parsed).toBe(0)
    expect(parseClientMessage(`{"type":"ping","x":${nested(10)}}`)).toMatchObject({ type: "ping" })
  })

  it('rejects a deeply nested value, JSON or typed, with INVALID_VALUE before JSON.parse sees it', () => {
    const parse = JSON.parse
    let parsed = 0
    JSON.parse = ((text: string): unknown => (parsed++, parse(text))) as typeof JSON.parse
    try {
      for (const encoded of [nested(1001), nested(1_000_000, '{"a":', '}'), `~${nested(1001)}`]) {
        let error: unknown
        try {
          decodeValue(encoded)
        } catch (e) {
          error = e
        }
        expect(isCubbyError(error, 'INVALID_VALUE') && error.message).toMatch(/nested deeper than 1000/)
      }
    } finally {
      JSON.parse = parse
    }
    expect(parsed).toBe(0)
    expect(decodeValue(nested(1000))).toHaveLength(1)
  })
})

describe('Error nodes', () => {
  it('are made without capturing a stack (most of the cost of new Error()), and the stack limit is restored', () => {
    const V8Error = Error as ErrorConstructor & { stackTraceLimit: number }
    const limit = V8Error.stackTraceLimit
    const limits: number[] = []
    // Watch the constructor the decoder calls for "TypeError" nodes.
    const Probe = class extends TypeError {
      constructor(message?: string) {
        limits.push(V8Error.stackTraceLimit)
        super(message)
      }
    }
    const encoded = encodeValue([new TypeError('a'), new TypeError()])
    ERRORS.TypeError = Probe as unknown as ErrorConstructor
    try {
      const decoded = decodeValue(encoded) as Error[]
      expect(decoded.map((e) => [e instanceof TypeError, e.message, Object.hasOwn(e, 'stack')])).toEqual([[true, 'a', false], [true, '', false]])
    } finally {
      ERRORS.TypeError = TypeError
    }
    expect(limits).toEqual([0, 0])
    expect(V8Error.stackTraceLimit).toBe(limit)
  })
})

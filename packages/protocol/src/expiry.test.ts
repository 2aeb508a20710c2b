import { describe, expect, it } from 'vitest'
import { isCubbyError } from './CubbyError.js'
import { MAX_TTL_MS, isExpired, resolveExpiresAt } from './expiry.js'
import { parseClientMessage, parseServerMessage } from './parseMessage.js'

const code = (run: () => unknown): string | undefined => {
  try {
    run()
  } catch (e) {
    return isCubbyError(e) ? e.code : 'not a CubbyError'
  }
  return undefined
}

describe('resolveExpiresAt', () => {
  it('adds a ttl to the server time and takes a moment as it is', () => {
    expect(resolveExpiresAt({ ttl: 1500 }, 1_000_000)).toBe(1_001_500)
    expect(resolveExpiresAt({ expiresAt: new Date(2_000_000) }, 1_000_000)).toBe(2_000_000)
    expect(resolveExpiresAt({ expiresAt: 5 }, 1_000_000)).toBe(5)
    expect(resolveExpiresAt({}, 1_000_000)).toBeUndefined()
  })

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, MAX_TTL_MS + 1, '10' as unknown as number])('refuses the ttl %s with INVALID_VALUE', (ttl) => {
    expect(code(() => resolveExpiresAt({ ttl }, Date.now()))).toBe('INVALID_VALUE')
  })

  it('refuses an invalid date, a moment too far ahead, and both options at once', () => {
    expect(code(() => resolveExpiresAt({ expiresAt: new Date(Number.NaN) }, 1))).toBe('INVALID_VALUE')
    expect(code(() => resolveExpiresAt({ expiresAt: 2 + MAX_TTL_MS }, 1))).toBe('INVALID_VALUE')
    expect(code(() => resolveExpiresAt({ ttl: 1, expiresAt: 5 }, 1))).toBe('INVALID_VALUE')
  })

  it('counts the moment itself as expired', () => {
    expect(isExpired(10, 10)).toBe(true)
    expect(isExpired(10, 9)).toBe(false)
    expect(isExpired(undefined, 10)).toBe(false)
  })
})

describe('expiresAt on the wire', () => {
  it('parses a store mutation with expiresAt and refuses a malformed one', () => {
    const push = (expiresAt: unknown): string => JSON.stringify({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt }] })
    expect(parseClientMessage(push(123))).toEqual({ type: 'push', clientId: 'c', mutations: [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: 123 }] })
    for (const bad of [0, -5, 1.5, '123', null]) expect(code(() => parseClientMessage(push(bad)))).toBe('BAD_MESSAGE')
  })

  it('parses a value change with expiresAt and the welcome clock', () => {
    const changes = parseServerMessage('{"type":"changes","rev":1,"changes":[{"rev":1,"key":"a","value":"1","expiresAt":99}]}')
    expect(changes).toEqual({ type: 'changes', rev: 1, changes: [{ rev: 1, key: 'a', value: '1', expiresAt: 99 }] })
    expect(code(() => parseServerMessage('{"type":"changes","rev":1,"changes":[{"rev":1,"key":"a","value":"1","expiresAt":"x"}]}'))).toBe('BAD_MESSAGE')
    expect(parseServerMessage('{"type":"welcome","v":1,"userId":"u","head":0,"now":1234}')).toEqual({ type: 'welcome', v: 1, userId: 'u', head: 0, now: 1234 })
  })
})

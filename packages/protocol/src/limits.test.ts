import { describe, expect, it } from 'vitest'
import { isCubbyError } from './CubbyError.js'
import { assertValidKey, assertValidUserId, compareKeys, utf8Length } from './limits.js'

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn()
  } catch (e) {
    return isCubbyError(e) ? e.code : (e as Error).name
  }
  return undefined
}

describe('assertValidKey', () => {
  it('accepts any well-formed characters, separators included', () => {
    for (const key of ['k', '\u0000', 'a/b/../c', '%2F', '\u{1F600}', 'ü'.repeat(512)]) expect(codeOf(() => assertValidKey(key))).toBeUndefined()
  })
  it('rejects empty, over-long and broken keys with INVALID_KEY, and non-strings with TypeError', () => {
    expect(codeOf(() => assertValidKey(''))).toBe('INVALID_KEY')
    expect(codeOf(() => assertValidKey('ü'.repeat(513)))).toBe('INVALID_KEY')
    expect(codeOf(() => assertValidKey('a\ud800'))).toBe('INVALID_KEY')
    expect(codeOf(() => assertValidKey('\udc00a'))).toBe('INVALID_KEY')
    expect(codeOf(() => assertValidKey(42))).toBe('TypeError')
  })
})

describe('assertValidUserId', () => {
  it('rejects empty, over-long, broken and non-string ids with INVALID_USER_ID', () => {
    expect(codeOf(() => assertValidUserId('alice'))).toBeUndefined()
    for (const id of ['', 'x'.repeat(257), 'a\ud800', null]) expect(codeOf(() => assertValidUserId(id))).toBe('INVALID_USER_ID')
  })
})

describe('utf8Length', () => {
  it('counts like TextEncoder', () => {
    for (const s of ['', 'abc', 'ü', '€', '\u{1F600}', 'a\ud800b', '\udfff']) expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length)
  })
})

describe('compareKeys', () => {
  it('orders by code point, as UTF-8 bytes and LevelDB do', () => {
    const keys = ['\u{1F600}', '\uFFFD', 'b', 'a', 'ab', '\uE000', '']
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
    expect([...keys].sort(compareKeys)).toEqual(byBytes)
  })
})

import { describe, expect, it } from 'vitest'
import { decodeJwtExpiry, decodeJwtSub } from './decodeJwtSub.js'

const b64url = (s: string): string => Buffer.from(s).toString('base64url')
const jwt = (payload: unknown): string => `${b64url('{"alg":"HS256"}')}.${b64url(JSON.stringify(payload))}.signature`

describe('decodeJwtSub', () => {
  it('reads sub from the payload without verifying the signature', () => {
    expect(decodeJwtSub(jwt({ sub: 'alice', exp: 1 }))).toBe('alice')
  })

  it('keeps non-ASCII and control characters of sub', () => {
    expect(decodeJwtSub(jwt({ sub: 'a\u0000b' }))).toBe('a\u0000b')
    expect(decodeJwtSub(jwt({ sub: 'Zoë \u{1F600}' }))).toBe('Zoë \u{1F600}')
  })

  it('returns undefined for what is not a JWT with a string sub', () => {
    expect(decodeJwtSub('opaque-token')).toBeUndefined()
    expect(decodeJwtSub('a.b')).toBeUndefined()
    expect(decodeJwtSub(`x.${b64url('not json')}.y`)).toBeUndefined()
    expect(decodeJwtSub(jwt({ sub: 42 }))).toBeUndefined()
    expect(decodeJwtSub(jwt({ sub: '' }))).toBeUndefined()
    expect(decodeJwtSub(jwt(null))).toBeUndefined()
    expect(decodeJwtSub('x.!!!.y')).toBeUndefined()
  })
})

describe('decodeJwtExpiry', () => {
  it('reads exp as milliseconds, or undefined without one', () => {
    expect(decodeJwtExpiry(jwt({ sub: 'a', exp: 1700000000 }))).toBe(1700000000000)
    expect(decodeJwtExpiry(jwt({ sub: 'a' }))).toBeUndefined()
    expect(decodeJwtExpiry(jwt({ exp: '1' }))).toBeUndefined()
    expect(decodeJwtExpiry('opaque')).toBeUndefined()
  })
})

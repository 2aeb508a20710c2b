import { describe, expect, it } from 'vitest'
import { DEFAULT_ALLOWED_ORIGINS, OriginPolicy } from './OriginPolicy.js'

describe('OriginPolicy', () => {
  const local = new OriginPolicy(DEFAULT_ALLOWED_ORIGINS)

  it('allows requests without an Origin, the server\'s own origin and local development by default', () => {
    expect(local.allows(undefined, 'cubby.example.com')).toBe(true)
    expect(local.allows('https://cubby.example.com', 'cubby.example.com')).toBe(true)
    expect(local.allows('http://localhost:5173', 'cubby.example.com')).toBe(true)
    expect(local.allows('http://127.0.0.1:3000', 'x')).toBe(true)
    expect(local.allows('http://[::1]:8080', 'x')).toBe(true)
  })

  it('refuses other origins, lookalikes, opaque and malformed origins', () => {
    for (const origin of ['https://evil.example', 'http://localhost.evil.example:80', 'https://localhost:5173', 'null', 'not a url', 'http://127.0.0.1.nip.io']) {
      expect(local.allows(origin, 'cubby.example.com'), origin).toBe(false)
    }
  })

  it('takes exact origins, any-port patterns and *', () => {
    const policy = new OriginPolicy(['https://App.Example.com', 'http://dev.example:*'])
    expect(policy.allows('https://app.example.com', 'x')).toBe(true)
    expect(policy.allows('https://app.example.com:443', 'x')).toBe(true)
    expect(policy.allows('https://app.example.com:8443', 'x')).toBe(false)
    expect(policy.allows('http://dev.example:1234', 'x')).toBe(true)
    expect(policy.allows('http://localhost:5173', 'x')).toBe(false)
    expect(new OriginPolicy(['*']).allows('https://anything.example', 'x')).toBe(true)
    expect(() => new OriginPolicy(['not an origin'])).toThrow(TypeError)
  })
})

import { DEFAULT_LIMITS } from '@cubby/protocol'
import { SignJWT, UnsecuredJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { TokenAuth, type TokenAuthOptions } from './TokenAuth.js'

const SECRET = 'test-secret-test-secret-test-secret'
const key = new TextEncoder().encode(SECRET)
const auth = (options: Partial<TokenAuthOptions> = {}): TokenAuth =>
  new TokenAuth({ secret: SECRET, issuer: undefined, audience: undefined, authenticate: undefined, limits: DEFAULT_LIMITS, ...options })

describe('TokenAuth', () => {
  it('verifies the tokens it issues', async () => {
    const a = auth()
    expect(await a.verify(await a.issueToken('alice'))).toBe('alice')
    const { userId, token } = await a.issueAnonymous()
    expect(await a.verify(token)).toBe(userId)
  })

  it('rejects tokens signed with another secret, unsigned or malformed', async () => {
    const other = new TokenAuth({ secret: 'other', issuer: undefined, audience: undefined, authenticate: undefined, limits: DEFAULT_LIMITS })
    expect(await auth().verify(await other.issueToken('alice'))).toBeUndefined()
    expect(await auth().verify(new UnsecuredJWT({}).setSubject('alice').encode())).toBeUndefined()
    expect(await auth().verify('a.b.c')).toBeUndefined()
  })

  it('checks tokens with previous secrets during a rotation, and signs with the current one only', async () => {
    const old = auth()
    const oldToken = await old.issueToken('alice')
    const rotated = auth({ secret: 'new-secret-new-secret-new-secret', previousSecrets: [SECRET] })
    expect(await rotated.verify(oldToken)).toBe('alice')
    const newToken = await rotated.issueToken('bob')
    expect(await old.verify(newToken)).toBeUndefined()
    expect(await auth({ secret: 'new-secret-new-secret-new-secret' }).verify(oldToken)).toBeUndefined()
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(1).sign(key)
    expect(await rotated.verify(expired)).toBeUndefined()
  })

  it('says expired or revoked only of correctly signed tokens, and invalid of everything else', async () => {
    const expiredFor = (k: Uint8Array): Promise<string> => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(1).sign(k)
    expect(await auth().check(await expiredFor(key))).toEqual({ reason: 'expired' })
    expect(await auth().check(await expiredFor(new TextEncoder().encode('another secret')))).toEqual({ reason: 'invalid' })
    // Expired under a previous secret: the current key fails the signature, the previous one finds the expiry.
    expect(await auth({ secret: 'new-secret-new-secret-new-secret', previousSecrets: [SECRET] }).check(await expiredFor(key))).toEqual({ reason: 'expired' })
    const deleted = auth({ deletedAt: async (userId) => (userId === 'alice' ? Math.floor(Date.now() / 1000) + 1 : undefined) })
    expect(await deleted.check(await deleted.issueToken('alice'))).toEqual({ reason: 'revoked' })
    expect(await deleted.check(await deleted.issueToken('bob'))).toEqual({ userId: 'bob' })
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().sign(new TextEncoder().encode('x'))
    expect(await deleted.check(forged)).toEqual({ reason: 'invalid' })
  })

  it('honours exp and requires the configured issuer and audience', async () => {
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(1).sign(key)
    expect(await auth().verify(expired)).toBeUndefined()
    const strict = auth({ issuer: 'cubby', audience: 'app' })
    expect(await strict.verify(await auth().issueToken('alice'))).toBeUndefined()
    expect(await strict.verify(await strict.issueToken('alice'))).toBe('alice')
    expect(await auth({ issuer: 'cubby' }).verify(await strict.issueToken('alice'))).toBe('alice')
  })

  it('switches secrets in place: the new one signs, the listed ones verify', async () => {
    const a = auth()
    const oldToken = await a.issueToken('alice')
    a.setSecrets('new-secret-new-secret-new-secret', [SECRET])
    expect(await a.verify(oldToken)).toBe('alice')
    const newToken = await a.issueToken('bob')
    expect(await auth().verify(newToken)).toBeUndefined()
    a.setSecrets('new-secret-new-secret-new-secret', [])
    expect(await a.verify(oldToken)).toBeUndefined()
    expect(await a.verify(newToken)).toBe('bob')
  })

  it('refuses JWTs of a deleted user issued at or before the deletion, and leaves the authenticate hook alone', async () => {
    const deletedAt = async (userId: string): Promise<number | undefined> => (userId === 'gone' ? 1_000 : undefined)
    const a = auth({ deletedAt })
    const at = (iat: number | undefined, sub = 'gone'): Promise<string> => {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub)
      return (iat === undefined ? jwt : jwt.setIssuedAt(iat)).sign(key)
    }
    expect(await a.verify(await at(999))).toBeUndefined()
    expect(await a.verify(await at(1_000))).toBeUndefined()
    expect(await a.verify(await at(undefined))).toBeUndefined()
    expect(await a.verify(await at(1_001))).toBe('gone')
    expect(await a.verify(await at(undefined, 'kept'))).toBe('kept')
    expect(await auth({ deletedAt, authenticate: async () => 'gone' }).verify('t')).toBe('gone')
    await expect(auth({ deletedAt: () => Promise.reject(new Error('down')) }).verify(await at(1))).rejects.toThrow('down')
  })

  it('refuses user ids that are empty, too long or ill-formed, from any source', async () => {
    for (const sub of ['', 'x'.repeat(300), 'a\uD800']) {
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).sign(key)
      expect(await auth().verify(token)).toBeUndefined()
      expect(await auth({ authenticate: async () => sub }).verify('t')).toBeUndefined()
    }
    expect(await auth({ authenticate: async () => { throw new Error('down') } }).verify('t')).toBeUndefined()
  })
})

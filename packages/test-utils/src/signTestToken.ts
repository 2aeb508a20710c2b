import { createHmac } from 'node:crypto'

const b64url = (data: string | object): string => Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64url')

/** Claims a test may set on a token; anything else (a wrong `alg`, a tampered signature) is built with {@link craftToken}. */
export interface TestTokenClaims {
  /** Seconds since the epoch. */
  exp?: number
  nbf?: number
  iat?: number
  iss?: string
  aud?: string
}

/**
 * A JWT with any header and payload, signed with HMAC-SHA256 by `secret` (or carrying the given signature as
 * is): the one token forger of the tests. Written with node:crypto rather than jose, so that the server's
 * jose-based verification is checked against an independent implementation.
 *
 * @example
 * ```ts
 * const unsigned = craftToken({ alg: 'none' }, { sub: 'alice' }, { signature: '' })
 * ```
 */
export function craftToken(header: object, payload: object, secret: string | { signature: string }): string {
  const signingInput = `${b64url(header)}.${b64url(payload)}`
  const signature = typeof secret === 'string' ? createHmac('sha256', secret).update(signingInput).digest('base64url') : secret.signature
  return `${signingInput}.${signature}`
}

/**
 * Signs an HS256 JWT for `userId` with `secret`, the way an app with its own login would.
 *
 * @example
 * ```ts
 * const token = signTestToken(server.secret, 'alice', { exp: Math.floor(Date.now() / 1000) + 60 })
 * ```
 */
export function signTestToken(secret: string, userId: string, claims: TestTokenClaims = {}): string {
  return craftToken({ alg: 'HS256', typ: 'JWT' }, { sub: userId, iat: Math.floor(Date.now() / 1000), ...claims }, secret)
}

/** An unsigned token naming `userId`: enough for a client that never connects (it reads `sub` unverified). */
export const offlineToken = (userId: string): string => craftToken({ alg: 'none' }, { sub: userId }, { signature: '' })

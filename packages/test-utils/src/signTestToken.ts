import { createHmac } from 'node:crypto'

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url')

/** Claims a test may set on a token; anything else (a wrong `alg`, a tampered signature) is built by hand. */
export interface TestTokenClaims {
  /** Seconds since the epoch. */
  exp?: number
  nbf?: number
  iss?: string
  aud?: string
}

/**
 * Signs an HS256 JWT for `userId` with `secret`, the way an app with its own login would. Written with
 * node:crypto rather than jose so that the server's jose-based verification is checked against an
 * independent implementation.
 *
 * @example
 * ```ts
 * const token = signTestToken(server.secret, 'alice')
 * ```
 */
export function signTestToken(secret: string, userId: string, claims: TestTokenClaims = {}): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const payload = b64url(JSON.stringify({ sub: userId, iat: Math.floor(Date.now() / 1000), ...claims }))
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')
  return `${header}.${payload}.${signature}`
}

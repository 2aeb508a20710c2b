/**
 * Reads the `sub` claim of a JWT without verifying it: only to choose the local database (the server verifies
 * the token). Returns undefined when the token is not a JWT or has no string `sub`.
 *
 * @internal
 */
export function decodeJwtSub(token: string): string | undefined {
  const sub = decodeJwtClaims(token)?.sub
  return typeof sub === 'string' && sub.length > 0 ? sub : undefined
}

/**
 * Reads when a JWT expires (its `exp` claim, in ms since the epoch) without verifying it, to renew it in time.
 * Returns undefined when the token is not a JWT or has no numeric `exp`.
 *
 * @internal
 */
export function decodeJwtExpiry(token: string): number | undefined {
  const exp = decodeJwtClaims(token)?.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
}

function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined || token.split('.').length !== 3) return undefined
  try {
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
    const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
    const claims: unknown = JSON.parse(json)
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * Reads when a JWT was issued (its `iat` claim, in ms since the epoch) without verifying it.
 * Returns undefined when the token is not a JWT or has no numeric `iat`.
 *
 * @internal
 */
export function decodeJwtIssuedAt(token: string): number | undefined {
  const iat = decodeJwtClaims(token)?.iat
  return typeof iat === 'number' && Number.isFinite(iat) ? iat * 1000 : undefined
}

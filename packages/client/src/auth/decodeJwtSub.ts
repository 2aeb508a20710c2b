/**
 * Reads the `sub` claim of a JWT without verifying it: only to choose the local database (the server verifies
 * the token). Returns undefined when the token is not a JWT or has no string `sub`.
 *
 * @internal
 */
export function decodeJwtSub(token: string): string | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined || token.split('.').length !== 3) return undefined
  try {
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
    const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
    const claims: unknown = JSON.parse(json)
    const sub = typeof claims === 'object' && claims !== null ? (claims as { sub?: unknown }).sub : undefined
    return typeof sub === 'string' && sub.length > 0 ? sub : undefined
  } catch {
    return undefined
  }
}

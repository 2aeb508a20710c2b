import { CubbyError } from '@cubby/protocol'
import { decodeJwtExpiry, decodeJwtIssuedAt } from './decodeJwtSub.js'
import { postToServer } from './postToServer.js'

/** Renew a token without `iat` this long before its `exp`. */
const RENEW_AHEAD_MS = 60_000

/**
 * Tells whether a server-issued token is due for renewal: past half its lifetime (from `iat` to `exp`), or
 * within a minute of `exp` when it has no `iat`. A token without `exp` never is (it does not expire).
 *
 * @internal
 */
export function tokenDueForRefresh(token: string, now = Date.now()): boolean {
  const exp = decodeJwtExpiry(token)
  if (exp === undefined) return false
  const iat = decodeJwtIssuedAt(token)
  return now >= (iat === undefined || iat >= exp ? exp - RENEW_AHEAD_MS : iat + (exp - iat) / 2)
}

/**
 * Renews a still-valid server-issued token with `POST /v1/tokens/refresh`.
 *
 * @returns The new token.
 * @throws CubbyError as {@link postToServer} (`UNAUTHORIZED` when the token is expired or revoked), `BAD_MESSAGE`
 * for an answer without a token.
 * @internal
 */
export async function refreshIssuedToken(url: string, token: string, fetchFn: typeof fetch): Promise<string> {
  const { token: renewed } = await postToServer(url, '/v1/tokens/refresh', fetchFn, token)
  if (typeof renewed !== 'string') throw new CubbyError('BAD_MESSAGE', 'POST /v1/tokens/refresh sent no token')
  return renewed
}

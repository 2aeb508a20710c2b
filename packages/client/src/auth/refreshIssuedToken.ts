import { CubbyError, isCubbyErrorCode } from '@cubby/protocol'
import { decodeJwtExpiry, decodeJwtIssuedAt } from './decodeJwtSub.js'

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
 * Renews a still-valid server-issued token with `POST /v1/tokens/refresh` (the bearer token goes in a header,
 * never in the URL).
 *
 * @returns The new token.
 * @throws CubbyError with the server's code when it refuses (`UNAUTHORIZED`: expired, revoked), `NETWORK` when it
 * cannot be reached, `BAD_MESSAGE` for an answer that is not Cubby's.
 * @internal
 */
export async function refreshIssuedToken(url: string, token: string, fetchFn: typeof fetch): Promise<string> {
  const endpoint = `${url.replace(/\/+$/, '')}/v1/tokens/refresh`
  let res: Response
  try {
    res = await fetchFn(endpoint, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  } catch (cause) {
    throw new CubbyError('NETWORK', `Cannot reach ${endpoint}`, { cause })
  }
  const body = (await res.json().catch(() => undefined)) as { token?: unknown; error?: { code?: unknown; message?: unknown } } | undefined
  const error = body?.error
  if (!res.ok && isCubbyErrorCode(error?.code)) throw new CubbyError(error.code, typeof error.message === 'string' ? error.message : error.code)
  if (!res.ok && res.status >= 502 && res.status <= 504) throw new CubbyError('NETWORK', `POST ${endpoint}: HTTP ${res.status}`)
  if (!res.ok || typeof body?.token !== 'string') throw new CubbyError('BAD_MESSAGE', `POST ${endpoint}: HTTP ${res.status} sent no token`)
  return body.token
}

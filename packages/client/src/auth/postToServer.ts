import { CubbyError, isCubbyErrorCode } from '@cubby/protocol'

/**
 * POSTs to a Cubby route under the base `url` (a bearer token, if any, in the `Authorization` header, never in
 * the URL) and returns the JSON answer.
 *
 * @throws CubbyError with the server's code when it refuses; `NETWORK` when it cannot be reached (also through a
 * proxy that answers 502 to 504 for it); `BAD_MESSAGE` naming the URL for an answer that is not Cubby's.
 * @internal
 */
export async function postToServer(url: string, path: string, fetchFn: typeof fetch, token?: string): Promise<Record<string, unknown>> {
  const endpoint = `${url.replace(/\/+$/, '')}${path}`
  let res: Response
  try {
    res = await fetchFn(endpoint, { method: 'POST', ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }) })
  } catch (cause) {
    throw new CubbyError('NETWORK', `Cannot reach ${endpoint}`, { cause })
  }
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined
  if (!res.ok) {
    const error = body?.error as { code?: unknown; message?: unknown } | undefined
    if (isCubbyErrorCode(error?.code)) throw new CubbyError(error.code, typeof error.message === 'string' ? error.message : error.code)
    const gateway = res.status >= 502 && res.status <= 504
    throw new CubbyError(gateway ? 'NETWORK' : 'BAD_MESSAGE', `POST ${endpoint}: HTTP ${res.status}${gateway ? '' : `, not from Cubby: is ${url} its base URL?`}`)
  }
  return body ?? {}
}

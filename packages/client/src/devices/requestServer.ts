import { CubbyError, JSON_CONTENT_TYPE, isCubbyErrorCode, isUnauthorizedReason } from '@cubby/protocol'

/** A request of {@link requestServer}. @internal */
export interface ServerRequest {
  method: 'GET' | 'POST' | 'DELETE'
  /** Sent as `Authorization: Bearer`, never in the URL. */
  token: string
  /** Sent as JSON. */
  body?: Record<string, unknown>
  fetch: typeof fetch
}

/** The server's refusal as a CubbyError, with its `retryAfter` and `reason`. */
function refusal(res: Response, body: Record<string, unknown> | undefined, endpoint: string, url: string): CubbyError {
  const error = body?.error as { code?: unknown; message?: unknown; retryAfter?: unknown; reason?: unknown } | undefined
  if (isCubbyErrorCode(error?.code)) {
    const retryAfter = typeof error.retryAfter === 'number' ? error.retryAfter : undefined
    const reason = isUnauthorizedReason(error.reason) ? error.reason : undefined
    return new CubbyError(error.code, typeof error.message === 'string' ? error.message : error.code, {
      ...(retryAfter === undefined ? {} : { retryAfter }),
      ...(reason === undefined ? {} : { reason }),
    })
  }
  const gateway = res.status >= 502 && res.status <= 504
  return new CubbyError(gateway ? 'NETWORK' : 'BAD_MESSAGE', `${endpoint}: HTTP ${res.status}${gateway ? '' : `, not from Cubby: is ${url} its base URL?`}`)
}

/**
 * Sends a request to a Cubby route under the base `url` and returns the JSON answer.
 *
 * @throws CubbyError with the server's code (and `retryAfter`, `reason`) when it refuses; `NETWORK` when it cannot be
 * reached (also through a proxy answering 502 to 504); `BAD_MESSAGE` for an answer that is not Cubby's.
 * @internal
 */
export async function requestServer(url: string, path: string, request: ServerRequest): Promise<Record<string, unknown>> {
  const endpoint = `${url.replace(/\/+$/, '')}${path}`
  const headers: Record<string, string> = { authorization: `Bearer ${request.token}` }
  if (request.body !== undefined) headers['content-type'] = JSON_CONTENT_TYPE
  let res: Response
  try {
    res = await request.fetch(endpoint, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    })
  } catch (cause) {
    throw new CubbyError('NETWORK', `Cannot reach ${endpoint}`, { cause })
  }
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined
  if (!res.ok) throw refusal(res, body, `${request.method} ${endpoint}`, url)
  if (typeof body !== 'object' || body === null) throw new CubbyError('BAD_MESSAGE', `${request.method} ${endpoint} sent no JSON object`)
  return body
}

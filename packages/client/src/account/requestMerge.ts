import { CubbyError, JSON_CONTENT_TYPE, MERGE_PATH, type MergeAnswer, type MergeRequest, isCubbyError, isCubbyErrorCode } from '@cubby/protocol'

/** The `cause` of the error of a merge whose anonymous proof the server refused (`credential: 'anonymous'`). */
const PROOF_REFUSED = { credential: 'anonymous' } as const

/**
 * Whether {@link requestMerge} failed because the server refused the anonymous proof (`UNAUTHORIZED` about the
 * `anonymous` credential: its user was deleted, by a merge most often, or its token is no longer valid).
 *
 * @internal
 */
export const isProofRefused = (error: unknown): boolean => isCubbyError(error, 'UNAUTHORIZED') && error.cause === PROOF_REFUSED

/** Whether a 200 answer is a {@link MergeAnswer}. */
const isMergeAnswer = (body: unknown): body is MergeAnswer => {
  const a = body as Partial<MergeAnswer> | undefined
  return typeof a?.account === 'string' && typeof a.head === 'number' && typeof a.written === 'number' && Array.isArray(a.conflicts)
}

/**
 * Sends `POST /v1/account/merge` to the server at `url`: the account's token as `Authorization`, the proof of the
 * anonymous identity in the body.
 *
 * @throws CubbyError with the server's code when it refuses (`UNAUTHORIZED`, `FORBIDDEN`, `QUOTA_EXCEEDED`, ...);
 *   `NETWORK` when it cannot be reached (also through a proxy answering 502 to 504); `BAD_MESSAGE` for an answer
 *   that is not Cubby's.
 * @internal
 */
export async function requestMerge(url: string, request: MergeRequest & { accountToken: string; fetch: typeof fetch }): Promise<MergeAnswer> {
  const { accountToken, fetch: fetchFn, ...body } = request
  const endpoint = `${url.replace(/\/+$/, '')}${MERGE_PATH}`
  let res: Response
  try {
    res = await fetchFn(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${accountToken}`, 'content-type': JSON_CONTENT_TYPE },
      body: JSON.stringify(body),
    })
  } catch (cause) {
    throw new CubbyError('NETWORK', `Cannot reach ${endpoint}`, { cause })
  }
  const json: unknown = await res.json().catch(() => undefined)
  if (res.ok && isMergeAnswer(json)) return json
  const error = (json as { error?: { code?: unknown; message?: unknown; credential?: unknown } } | undefined)?.error
  if (!res.ok && isCubbyErrorCode(error?.code)) {
    const message = typeof error.message === 'string' ? error.message : error.code
    throw new CubbyError(error.code, message, error.credential === 'anonymous' ? { cause: PROOF_REFUSED } : {})
  }
  const gateway = res.status >= 502 && res.status <= 504
  throw new CubbyError(gateway ? 'NETWORK' : 'BAD_MESSAGE', `POST ${endpoint}: HTTP ${res.status}${gateway ? '' : `, not a Cubby merge answer: is ${url} its base URL?`}`)
}

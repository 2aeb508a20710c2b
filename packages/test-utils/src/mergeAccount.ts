import { MERGE_PATH, type CubbyErrorCode, type MergeAnswer, type MergeRequest } from '@cubby/protocol'

/** What {@link mergeAccount} sends: the account's token as `Authorization`, the rest as the JSON body. */
export interface MergeAccountOptions extends Partial<MergeRequest> {
  /** The account's token; `undefined` sends no `Authorization` header. */
  accountToken: string | undefined
  /** A body to send as is instead of the JSON of the other fields (for malformed requests). */
  rawBody?: string
}

/** The answer of {@link mergeAccount}: the status and the JSON body (an answer or an error). */
export type MergeAccountAnswer =
  | { status: 200; body: MergeAnswer }
  | { status: number; body: { error: { code: CubbyErrorCode; message: string; reason?: string; credential?: string } } }

/**
 * Sends `POST /v1/account/merge` to the server at `url`, as a client's `signIn` does.
 *
 * @example
 * ```ts
 * const { status, body } = await mergeAccount(server.url, { accountToken: server.token('alice'), proof: anonToken })
 * ```
 */
export async function mergeAccount(url: string, { accountToken, rawBody, ...body }: MergeAccountOptions): Promise<MergeAccountAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (accountToken !== undefined) headers.authorization = `Bearer ${accountToken}`
  const res = await fetch(`${url}${MERGE_PATH}`, { method: 'POST', headers, body: rawBody ?? JSON.stringify(body) })
  const json: unknown = await res.json()
  return { status: res.status, body: json } as MergeAccountAnswer
}

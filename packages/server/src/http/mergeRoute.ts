import { CubbyError, JSON_CONTENT_TYPE, MERGE_PATH, MERGE_PREFERENCES, type MergePreference, type MergeRequest } from '@cubby/protocol'
import express, { type Request, type RequestHandler, type Router } from 'express'
import type { AccountMerger } from '../auth/AccountMerger.js'
import { authorizeMerge } from '../auth/authorizeMerge.js'
import { UNAUTHORIZED_MESSAGES } from '../auth/TokenAuth.js'
import { authorizationTime } from '../writes/Writer.js'
import type { HttpContext } from './HttpContext.js'
import { readTextBody } from './readTextBody.js'

const BEARER = /^Bearer +(\S+) *$/i

const FORBIDDEN_MESSAGES = {
  'not-an-account': 'The Authorization token must be an account\'s, not an anonymous identity\'s',
  'not-anonymous': 'The proof must be an anonymous identity\'s token',
  'same-user': 'The proof and the account are the same user',
  'account-mismatch': 'The body names another account than the token\'s user',
} as const

/** The body as a {@link MergeRequest}. @throws CubbyError `BAD_MESSAGE` for anything else. */
function parseMergeRequest(body: unknown): { proof: string | undefined; prefer: MergePreference; account: string | undefined } {
  let parsed: unknown = body
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body)
    } catch {
      throw new CubbyError('BAD_MESSAGE', 'The body must be JSON: { "proof": "<token>", "prefer"?: "account" | "anonymous" }')
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CubbyError('BAD_MESSAGE', 'The body must be a JSON object')
  const { proof, prefer = 'account', account } = parsed as Partial<Record<keyof MergeRequest, unknown>>
  if (proof !== undefined && typeof proof !== 'string') throw new CubbyError('BAD_MESSAGE', 'proof must be a token (a string)')
  if (account !== undefined && typeof account !== 'string') throw new CubbyError('BAD_MESSAGE', 'account must be a string')
  if (!(MERGE_PREFERENCES as readonly unknown[]).includes(prefer)) throw new CubbyError('BAD_MESSAGE', 'prefer must be "account" or "anonymous"')
  return { proof: proof === '' ? undefined : proof, prefer: prefer as MergePreference, account }
}

function bearerOf(req: Request): string | undefined {
  const header = req.get('authorization')
  return header === undefined ? undefined : (BEARER.exec(header)?.[1] ?? '')
}

function merge(ctx: HttpContext, merger: AccountMerger): RequestHandler {
  return async (req, res) => {
    // Taken before the checks, so that a deletion of either user the checks did not see refuses the merge.
    const authorizedAt = authorizationTime()
    const { proof, prefer, account } = parseMergeRequest(req.body ?? '')
    const checked = await authorizeMerge(ctx.auth, { accountToken: bearerOf(req), proof, account }, { host: req.get('host') })
    if (checked.refused === 'UNAUTHORIZED') {
      const { reason, credential } = checked
      res.set('WWW-Authenticate', 'Bearer')
      ctx.metrics.refused('UNAUTHORIZED', reason)
      return void res.status(401).json({ error: { code: 'UNAUTHORIZED', message: `${credential === 'account' ? 'Account token' : 'Proof'}: ${UNAUTHORIZED_MESSAGES[reason]}`, reason, credential } })
    }
    if (checked.refused === 'FORBIDDEN') {
      ctx.metrics.refused('FORBIDDEN', '')
      return void res.status(403).json({ error: { code: 'FORBIDDEN', message: FORBIDDEN_MESSAGES[checked.reason], reason: checked.reason } })
    }
    // A refusal of the storage (QUOTA_EXCEEDED, UNAUTHORIZED) reaches the error handler as a CubbyError.
    res.json(await merger.merge(checked.anonymous, checked.account, prefer, authorizedAt))
  }
}

/**
 * `POST /v1/account/merge`: moves an anonymous identity's data into the account of the `Authorization` token, proven
 * by the anonymous identity's own token in the body (see `MergeRequest`), and deletes the anonymous identity.
 * @internal
 */
export function createMergeRoute(ctx: HttpContext): Router {
  const { merger } = ctx
  const router = express.Router()
  router.post(MERGE_PATH, readTextBody({ types: [JSON_CONTENT_TYPE], maxBytes: ctx.limits.maxMessageBytes }), merge(ctx, merger))
  return router
}

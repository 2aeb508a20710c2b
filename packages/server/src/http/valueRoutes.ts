import { CUBBY_VALUE_CONTENT_TYPE, CubbyError, JSON_CONTENT_TYPE, assertValidKey } from '@cubby/protocol'
import type { Mutation } from '@cubby/protocol'
import express, { type Request, type RequestHandler, type Response, type Router } from 'express'
import type { StorageListOptions } from '../storage/CubbyStorage.js'
import { isWellFormed } from '../writes/validateMutation.js'
import type { HttpContext } from './HttpContext.js'
import { sendError } from './httpErrors.js'
import { readTextBody } from './readTextBody.js'
import { fromHttpBody, toHttpBody } from './valueBody.js'

/** The request that clears all of a user's values: distinct from deleting one key, not one character away. */
const CLEAR_PATH = '/v1/clear'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

const userOf = (res: Response): string => res.locals.userId as string

function queryString(req: Request, name: string): string | undefined {
  const value: unknown = req.query[name]
  if (value === undefined || typeof value === 'string') return value
  throw new CubbyError('BAD_MESSAGE', `Give ${name} at most once`)
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 1) throw new CubbyError('BAD_MESSAGE', 'limit must be a positive integer')
  return Math.min(n, MAX_LIMIT)
}

/** A `prefix` or `after` of a listing: a string that could be (the start of) a key. */
function keyBound(req: Request, name: string): string | undefined {
  const value = queryString(req, name)
  if (value !== undefined && !isWellFormed(value)) {
    throw new CubbyError('INVALID_KEY', `${name} must be well-formed Unicode (no lone surrogates)`)
  }
  return value
}

function keyOf(req: Request, ctx: HttpContext): string {
  const key = req.params.key
  assertValidKey(key, ctx.limits.maxKeyBytes)
  if (!isWellFormed(key)) throw new CubbyError('INVALID_KEY', 'A key must be well-formed Unicode (no lone surrogates)')
  return key
}

/** Writes one mutation through the shared write path and answers `{ rev }` or the mutation's error. */
async function writeOne(ctx: HttpContext, res: Response, mutation: Mutation): Promise<void> {
  const [result] = await ctx.writer.write(userOf(res), [mutation])
  if (result === undefined || 'error' in result) {
    const error = result?.error ?? { code: 'INTERNAL' as const, message: 'No result' }
    return sendError(res, error.code, error.message)
  }
  res.json({ rev: result.rev })
}

async function listValues(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const limit = parseLimit(queryString(req, 'limit'))
  const options: StorageListOptions = { limit: limit + 1 }
  const prefix = keyBound(req, 'prefix')
  const after = keyBound(req, 'after')
  if (prefix !== undefined) options.prefix = prefix
  if (after !== undefined) options.after = after
  const found = await ctx.storage.list(userOf(res), options)
  const page = found.slice(0, limit)
  const next = found.length > limit ? page.at(-1)!.key : null
  const values = queryString(req, 'values')
  if (values !== '1' && values !== 'true') return void res.json({ keys: page.map((e) => e.key), next })
  const entries = page.map(({ key, rev, value }) => {
    const { contentType, body } = toHttpBody(value)
    return { key, rev, contentType, value: JSON.parse(body) as unknown }
  })
  res.json({ entries, next })
}

async function getValue(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const entry = await ctx.storage.get(userOf(res), keyOf(req, ctx))
  if (entry === undefined) return sendError(res, 'NOT_FOUND', 'No value under this key')
  const { contentType, body } = toHttpBody(entry.value)
  res.set({ 'Content-Type': `${contentType}; charset=utf-8`, 'X-Cubby-Rev': String(entry.rev) }).send(body)
}

async function putValue(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const key = keyOf(req, ctx)
  const value = fromHttpBody(req.is([JSON_CONTENT_TYPE, CUBBY_VALUE_CONTENT_TYPE]) ?? false, req.body)
  await writeOne(ctx, res, { op: 'store', mid: 1, key, value })
}

/**
 * The value routes, each behind `user` (the bearer check): list, get, store and delete under `/v1/values`, and
 * clear at {@link CLEAR_PATH}. Routing is strict: `/v1/values/` is the empty key (`INVALID_KEY`), never the
 * listing, and a bare `DELETE /v1/values` is refused rather than taken as clear.
 * @internal
 */
export function createValueRoutes(ctx: HttpContext, user: RequestHandler): Router {
  const router = express.Router({ strict: true })
  const body = readTextBody({ types: [JSON_CONTENT_TYPE, CUBBY_VALUE_CONTENT_TYPE], maxBytes: ctx.limits.maxMessageBytes })
  router.get('/v1/values', user, (req, res) => listValues(ctx, req, res))
  router.delete('/v1/values', () => {
    throw new CubbyError('BAD_MESSAGE', `DELETE /v1/values deletes nothing: delete one key with DELETE /v1/values/<key>, or every value with POST ${CLEAR_PATH}`)
  })
  router.post(CLEAR_PATH, user, (_req, res) => writeOne(ctx, res, { op: 'clear', mid: 1 }))
  router.route('/v1/values/').all(user, () => {
    throw new CubbyError('INVALID_KEY', 'A key must not be empty')
  })
  router.get('/v1/values/:key', user, (req, res) => getValue(ctx, req, res))
  router.put('/v1/values/:key', user, body, (req, res) => putValue(ctx, req, res))
  router.delete('/v1/values/:key', user, (req, res) => writeOne(ctx, res, { op: 'delete', mid: 1, key: keyOf(req, ctx) }))
  return router
}

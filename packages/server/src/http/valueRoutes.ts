import { CUBBY_VALUE_CONTENT_TYPE, CubbyError, JSON_CONTENT_TYPE, assertValidKey, resolveExpiresAt } from '@cubby/protocol'
import type { Mutation } from '@cubby/protocol'
import express, { type Request, type RequestHandler, type Response, type Router } from 'express'
import type { StorageListOptions, StoredEntry } from '../storage/CubbyStorage.js'
import { isWellFormed } from '../writes/validateMutation.js'
import type { HttpContext } from './HttpContext.js'
import { sendError } from './httpErrors.js'
import { etagOf, httpCondition } from './httpCondition.js'
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
  const [result] = await ctx.writer.write(userOf(res), [mutation], { authorizedAt: res.locals.authorizedAt as number })
  if (result === undefined || 'error' in result) {
    const error = result?.error ?? { code: 'INTERNAL' as const, message: 'No result' }
    // A CONFLICT says the key's version, as its ETag, so the caller can read and retry.
    if (error.rev !== undefined && error.rev > 0) res.set('ETag', etagOf(error.rev))
    return sendError(res, error.code, error.message)
  }
  if (mutation.op === 'store') res.set('ETag', etagOf(result.rev))
  res.json({ rev: result.rev })
}

/** Most entries per storage read while a page is filled. */
const MAX_LIST_BATCH = 256

/**
 * Reads a page of a user's entries: at most `limit` of them, and stops once the page holds `maxBytes` (counted by
 * `bytesOf`), so that neither the reads nor the answer hold much more than that.
 * @returns the page, and whether entries follow it.
 */
async function readPage(ctx: HttpContext, userId: string, base: Omit<StorageListOptions, 'limit'>, limit: number, bytesOf: (e: StoredEntry) => number):
  Promise<{ page: StoredEntry[]; more: boolean }> {
  const page: StoredEntry[] = []
  const maxBytes = ctx.limits.maxMessageBytes
  let bytes = 0
  let more = true
  let after = base.after
  // The first read takes as many entries as the largest values that fit the page; later reads take twice as many
  // as the one before, so that pages of small values take few reads and large values are never read far ahead.
  let batch = Math.max(1, Math.ceil(maxBytes / ctx.limits.maxValueBytes))
  while (more && page.length < limit && bytes < maxBytes) {
    const want = Math.min(batch, limit - page.length)
    batch = Math.min(2 * batch, MAX_LIST_BATCH)
    const found = await ctx.storage.list(userId, { ...base, ...(after === undefined ? {} : { after }), limit: want + 1 })
    let taken = 0
    for (; taken < Math.min(want, found.length) && bytes < maxBytes; taken++) {
      page.push(found[taken]!)
      bytes += bytesOf(found[taken]!)
    }
    more = found.length > taken
    after = page.at(-1)?.key
  }
  return { page, more }
}

/**
 * Sends a JSON answer, and cuts the connection if none of it can be written for `sendTimeoutMs` (a client that asked
 * for a large page and stopped reading would otherwise hold it for as long as it likes).
 */
function sendJson(ctx: HttpContext, res: Response, body: unknown): void {
  const socket = res.socket
  res.json(body)
  if (socket === null || socket.writableLength === 0) return
  // An idle timeout: it fires only when no byte moved for sendTimeoutMs.
  const stalled = (): void => {
    ctx.logger.warn(`Disconnected an HTTP client that stopped reading (${socket.writableLength} bytes waiting)`)
    socket.destroy()
  }
  const done = (): void => {
    socket.off('timeout', stalled).off('drain', done).off('close', done)
    if (!socket.destroyed) socket.setTimeout(0)
  }
  socket.setTimeout(ctx.protection.options.sendTimeoutMs).on('timeout', stalled).once('drain', done).once('close', done)
}

async function listValues(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const limit = parseLimit(queryString(req, 'limit'))
  const base: Omit<StorageListOptions, 'limit'> = {}
  const prefix = keyBound(req, 'prefix')
  const after = keyBound(req, 'after')
  if (prefix !== undefined) base.prefix = prefix
  if (after !== undefined) base.after = after
  const values = queryString(req, 'values')
  const withValues = values === '1' || values === 'true'
  // A page ends at `limit` entries or at maxMessageBytes of keys (and values, when asked for), whichever comes first.
  const { page, more } = await readPage(ctx, userOf(res), base, limit, (e) => e.key.length + (withValues ? e.value.length : 0))
  const next = more ? page.at(-1)!.key : null
  if (!withValues) return sendJson(ctx, res, { keys: page.map((e) => e.key), next })
  const entries = page.map(({ key, rev, value, expiresAt }) => {
    const { contentType, body } = toHttpBody(value)
    return { key, rev, contentType, value: JSON.parse(body) as unknown, ...(expiresAt !== undefined && { expiresAt }) }
  })
  sendJson(ctx, res, { entries, next })
}

async function getValue(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const entry = await ctx.storage.get(userOf(res), keyOf(req, ctx))
  if (entry === undefined) return sendError(res, 'NOT_FOUND', 'No value under this key')
  const { contentType, body } = toHttpBody(entry.value)
  res.set({ 'Content-Type': `${contentType}; charset=utf-8`, 'X-Cubby-Rev': String(entry.rev), ETag: etagOf(entry.rev) })
  // `Expires` has whole seconds (RFC 9111 §5.3); the exact moment is in X-Cubby-Expires-At.
  if (entry.expiresAt !== undefined) res.set({ 'Expires': new Date(entry.expiresAt).toUTCString(), 'X-Cubby-Expires-At': String(entry.expiresAt) })
  res.send(body)
}

/**
 * The expiry of a PUT: `?ttl=<ms>` or the header `X-Cubby-Ttl: <ms>` (from now, server time), or `?expiresAt=<ms since the epoch>`.
 *
 * @throws CubbyError `BAD_MESSAGE` when given twice, `INVALID_VALUE` when out of range.
 */
function expiryOf(req: Request): number | undefined {
  const query = queryString(req, 'ttl')
  const header = req.get('X-Cubby-Ttl')
  const at = queryString(req, 'expiresAt')
  if ([query, header, at].filter((v) => v !== undefined).length > 1) throw new CubbyError('BAD_MESSAGE', 'Give one of ttl, X-Cubby-Ttl and expiresAt')
  const number = (raw: string): number => (/^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN)
  const ttl = query ?? header
  if (ttl !== undefined) return resolveExpiresAt({ ttl: number(ttl) }, Date.now())
  return at === undefined ? undefined : resolveExpiresAt({ expiresAt: number(at) }, Date.now())
}

async function putValue(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const key = keyOf(req, ctx)
  const expiresAt = expiryOf(req)
  const value = fromHttpBody(req.is([JSON_CONTENT_TYPE, CUBBY_VALUE_CONTENT_TYPE]) ?? false, req.body)
  const condition = httpCondition(req)
  await writeOne(ctx, res, { op: 'store', mid: 1, key, value, ...(expiresAt !== undefined && { expiresAt }), ...(condition !== undefined && { if: condition }) })
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
  router.delete('/v1/values/:key', user, (req, res) => {
    const condition = httpCondition(req)
    return writeOne(ctx, res, { op: 'delete', mid: 1, key: keyOf(req, ctx), ...(condition !== undefined && { if: condition }) })
  })
  return router
}

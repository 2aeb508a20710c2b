import { createHash, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { CubbyError, isWellFormed, type CubbyLimits } from '@cubby/protocol'
import express, { type Request, type RequestHandler, type Response, type Router } from 'express'
import { parseUserRecords } from '../admin/parseUserRecord.js'
import type { UserAdmin } from '../admin/UserAdmin.js'
import type { DeviceLinks } from '../auth/DeviceLinks.js'
import { assertUserId } from '../writes/validateMutation.js'
import { createAdminDeviceRoutes } from './deviceRoutes.js'
import { sendError } from './httpErrors.js'

/** What the admin routes need. @internal */
export interface AdminContext {
  admin: UserAdmin
  /** Users' devices; `undefined` when the storage keeps none (the device routes are `NOT_FOUND`). */
  devices: DeviceLinks | undefined
  /** The admin credential; `undefined` turns the routes off. */
  adminToken: string | undefined
  limits: CubbyLimits
}

const BEARER = /^Bearer +(\S+) *$/i
const NDJSON = 'application/x-ndjson'
const idOf = (req: Request): string => String(req.params.id)
const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Compares in constant time (hashes first, so the lengths match too). */
const sameSecret = (given: string, expected: string): boolean => timingSafeEqual(digest(given), digest(expected))

function page(req: Request): { after?: string; limit: number } {
  const { after, limit } = req.query
  if ((after !== undefined && typeof after !== 'string') || (limit !== undefined && typeof limit !== 'string')) {
    throw new CubbyError('BAD_MESSAGE', 'Give after and limit at most once')
  }
  if (after !== undefined && !isWellFormed(after)) throw new CubbyError('INVALID_USER_ID', 'after must be well-formed Unicode (no lone surrogates)')
  const n = limit === undefined || limit === '' ? 100 : Number(limit)
  if (!Number.isSafeInteger(n) || n < 1) throw new CubbyError('BAD_MESSAGE', 'limit must be a positive integer')
  return { ...(after === undefined ? {} : { after }), limit: Math.min(n, 1000) }
}

async function listUsers(ctx: AdminContext, req: Request, res: Response): Promise<void> {
  const { after, limit } = page(req)
  const found = await ctx.admin.users({ ...(after === undefined ? {} : { after }), limit: limit + 1 })
  const users = found.slice(0, limit)
  res.json({ users, next: found.length > limit ? users.at(-1)!.userId : null })
}

/** Streams the export as NDJSON, one line at a time, waiting whenever the client reads slower than storage. */
async function exportUser(ctx: AdminContext, req: Request, res: Response): Promise<void> {
  const records = ctx.admin.exportUser(idOf(req))[Symbol.asyncIterator]()
  let next = await records.next()
  res.type(NDJSON).set('Content-Disposition', 'attachment; filename="cubby-user.ndjson"')
  while (next.done !== true && !res.destroyed) {
    if (!res.write(`${JSON.stringify(next.value)}\n`)) await Promise.race([once(res, 'drain'), once(res, 'close')])
    next = await records.next()
  }
  await records.return?.(undefined)
  res.end()
}

async function importUser(ctx: AdminContext, req: Request, res: Response): Promise<void> {
  if (req.is(NDJSON) !== NDJSON && req.is('application/json') !== 'application/json') {
    throw new CubbyError('BAD_MESSAGE', `Send the export as ${NDJSON}`)
  }
  const lines = createInterface({ input: req, crlfDelay: Number.POSITIVE_INFINITY })
  const result = await ctx.admin.importUser(idOf(req), parseUserRecords(lines, ctx.limits))
  res.json(result)
}

async function deleteUser(ctx: AdminContext, req: Request, res: Response): Promise<void> {
  res.json({ deleted: await ctx.admin.deleteUser(idOf(req)) })
}

/**
 * Lets a request through only with the admin credential (`Authorization: Bearer`); without a credential configured
 * the route is `NOT_FOUND`.
 * @internal
 */
export function requireAdmin(ctx: Pick<AdminContext, 'adminToken'>): RequestHandler {
  return (req, res, next) => {
    const { adminToken } = ctx
    if (adminToken === undefined) return sendError(res, 'NOT_FOUND', 'The admin API is off (no admin credential)')
    const token = BEARER.exec(req.get('authorization') ?? '')?.[1]
    if (token === undefined || !sameSecret(token, adminToken)) {
      return sendError(res, 'UNAUTHORIZED', 'Send the admin credential as Authorization: Bearer <token>', { refused: 'admin' })
    }
    next()
  }
}

/**
 * The admin API under `/v1/admin`, behind the admin credential: list users, export, import and delete one, list and
 * revoke a user's devices.
 * @internal
 */
export function createAdminRoutes(ctx: AdminContext): Router {
  const router = express.Router()
  router.use(requireAdmin(ctx))
  router.get('/users', (req, res) => listUsers(ctx, req, res))
  router.get('/users/:id/export', (req, res) => exportUser(ctx, req, res))
  router.post('/users/:id/import', (req, res) => importUser(ctx, req, res))
  router.delete('/users/:id', (req, res) => deleteUser(ctx, req, res))
  router.use(createAdminDeviceRoutes(ctx.devices, (req) => {
    const userId = String(req.params.userId)
    assertUserId(userId, ctx.limits)
    return userId
  }))
  router.use(() => {
    throw new CubbyError('NOT_FOUND', 'No such admin route')
  })
  return router
}

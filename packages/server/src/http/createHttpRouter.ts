import { CubbyError } from '@cubby/protocol'
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import { authorizationTime } from '../writes/Writer.js'
import type { HttpContext } from './HttpContext.js'
import { createAdminRoutes } from './adminRoutes.js'
import { createProtection } from './createProtection.js'
import { createErrorHandler, refuseOversizedBodies, sendError } from './httpErrors.js'
import { createValueRoutes } from './valueRoutes.js'

const BEARER = /^Bearer +(\S+) *$/i

/** Puts the token's user id into `res.locals.userId`, or answers 401. */
function requireUser(ctx: HttpContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const token = BEARER.exec(req.get('authorization') ?? '')?.[1]
    // Taken before the check, so that a deletion the check did not see is at or after it (see Writer).
    res.locals.authorizedAt = authorizationTime()
    const userId = token === undefined ? undefined : await ctx.auth.verify(token)
    if (userId === undefined) return sendError(res, 'UNAUTHORIZED', 'Send a valid token as Authorization: Bearer <token>')
    res.locals.userId = userId
    next()
  }
}

async function issueIdentity(ctx: HttpContext, res: Response): Promise<void> {
  if (!ctx.anonymousIdentities) return sendError(res, 'NOT_FOUND', 'This server does not issue anonymous identities')
  res.status(201).json(await ctx.auth.issueAnonymous())
}

/**
 * The HTTP API: `GET /healthz`, `POST /v1/identities` and the `/v1/values` routes, with JSON errors.
 * Other paths outside `/v1` fall through to whatever the host app mounts after it.
 * @internal
 */
export function createHttpRouter(ctx: HttpContext): Router {
  const router = express.Router()
  router.use('/v1', createProtection(ctx.protection))
  router.use(['/healthz', '/v1'], async (_req, res, next) => {
    res.set('Cache-Control', 'no-store')
    await ctx.ready()
    next()
  })
  router.get('/healthz', (_req, res) => void res.json({ ok: true }))
  // Before the body size check: an import streams a whole user.
  router.use('/v1/admin', createAdminRoutes(ctx))
  router.use('/v1', refuseOversizedBodies(ctx.limits.maxMessageBytes))
  router.post('/v1/identities', (_req, res) => issueIdentity(ctx, res))
  router.use('/v1', requireUser(ctx))
  router.use(createValueRoutes(ctx))
  router.use('/v1', () => {
    throw new CubbyError('NOT_FOUND', 'No such route')
  })
  router.use(createErrorHandler(ctx.logger))
  return router
}

import { CubbyError } from '@cubby/protocol'
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express'
import { NEW_IDENTITY_MESSAGE } from '../auth/IdentityAdmission.js'
import { UNAUTHORIZED_MESSAGES } from '../auth/TokenAuth.js'
import { authorizationTime } from '../writes/Writer.js'
import type { HttpContext } from './HttpContext.js'
import { createAdminRoutes, requireAdmin } from './adminRoutes.js'
import { createProtection } from './createProtection.js'
import { createErrorHandler, refuseOversizedBodies, sendError } from './httpErrors.js'
import { createValueRoutes } from './valueRoutes.js'
import { createDeviceRoutes } from './deviceRoutes.js'
import { createMergeRoute } from './mergeRoute.js'

const BEARER = /^Bearer +(\S+) *$/i

/** Puts the token's user id into `res.locals.userId`, or answers 401 with the reason. */
function requireUser(ctx: HttpContext): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization')
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1]
    // Taken before the check, so that a deletion the check did not see is at or after it (see Writer).
    res.locals.authorizedAt = authorizationTime()
    if (token === undefined) {
      const reason = header === undefined ? 'missing' : 'invalid'
      return sendError(res, 'UNAUTHORIZED', UNAUTHORIZED_MESSAGES[reason], { reason, refused: reason })
    }
    const checked = await ctx.auth.check(token, { host: req.get('host') })
    if (checked.userId === undefined) {
      const { reason } = checked
      return sendError(res, 'UNAUTHORIZED', UNAUTHORIZED_MESSAGES[reason], { reason, refused: reason })
    }
    const wait = checked.selfCertified === true ? await ctx.identities.admit(checked.userId, ctx.protection.addressOf(req)) : 0
    if (wait > 0) return sendError(res, 'RATE_LIMITED', NEW_IDENTITY_MESSAGE, { retryAfter: wait, refused: 'identity' })
    res.locals.userId = checked.userId
    res.locals.deviceId = checked.deviceId
    next()
  }
}

/** `POST /v1/identities`: a new anonymous identity, within the per-address limit of new identities. */
function issueIdentity(ctx: HttpContext): RequestHandler {
  return async (req, res) => {
    if (!ctx.anonymousIdentities) return sendError(res, 'NOT_FOUND', 'This server does not issue anonymous identities')
    const wait = ctx.identities.takeNew(ctx.protection.addressOf(req))
    if (wait > 0) return sendError(res, 'RATE_LIMITED', NEW_IDENTITY_MESSAGE, { retryAfter: wait, refused: 'identity' })
    res.status(201).json(await ctx.auth.issueAnonymous())
  }
}

/**
 * `POST /v1/tokens/refresh`: a new token (fresh `iat` and `exp`) for the user of the still-valid server-signed
 * token in `Authorization`; the old one stays valid until its own `exp`.
 */
function refreshToken(ctx: HttpContext): RequestHandler {
  return async (req, res) => {
    const header = req.get('authorization')
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1]
    const refreshed = token === undefined ? { reason: header === undefined ? 'missing' as const : 'invalid' as const } : await ctx.auth.refresh(token)
    if ('reason' in refreshed) {
      const { reason } = refreshed
      return sendError(res, 'UNAUTHORIZED', UNAUTHORIZED_MESSAGES[reason], { reason, refused: reason })
    }
    res.json(refreshed)
  }
}

/** Refuses a path under `/v1` that no route serves, naming it; before any token is asked for. */
function notFound(req: Request): never {
  const path = req.originalUrl.split('?')[0]!.slice(0, 200)
  const hint = path.startsWith('/v1/v1/') ? ' (the base URL must be the server root, without /v1)' : ''
  throw new CubbyError('NOT_FOUND', `No route ${req.method} ${path}${hint}`)
}

/**
 * The HTTP API: `GET /metrics` (admin credential), `GET /healthz`, `POST /v1/identities`, the `/v1/values` routes, `POST /v1/clear`
 * and the `/v1/devices` routes, with JSON
 * errors. Unknown paths under `/v1` are `NOT_FOUND` (no token asked for); other paths fall through to whatever the
 * host app mounts after it.
 * @internal
 */
export function createHttpRouter(ctx: HttpContext): Router {
  const router = express.Router()
  router.use((_req, res, next) => {
    res.locals.cubbyMetrics = ctx.metrics
    next()
  })
  // Behind the admin credential; a scraper without one uses the metrics port (see ListenOptions.metricsPort).
  router.get('/metrics', requireAdmin(ctx), async (_req, res) => {
    res.set('Cache-Control', 'no-store').type(ctx.metrics.contentType).send(await ctx.metrics.scrape())
  })
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
  router.post('/v1/identities', issueIdentity(ctx))
  router.post('/v1/tokens/refresh', refreshToken(ctx))
  router.use(createMergeRoute(ctx))
  router.use(createValueRoutes(ctx, requireUser(ctx)))
  router.use(createDeviceRoutes(ctx, requireUser(ctx)))
  router.use('/v1', notFound)
  router.use(createErrorHandler(ctx.logger))
  return router
}

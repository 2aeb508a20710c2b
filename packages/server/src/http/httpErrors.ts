import { CubbyError, type CubbyErrorCode, type UnauthorizedReason } from '@cubby/protocol'
import type { ErrorRequestHandler, RequestHandler, Response } from 'express'
import type { CubbyLogger } from '../logger.js'
import type { RefusalKind, ServerMetrics } from '../metrics/ServerMetrics.js'

/** The HTTP status of each error code. @internal */
const HTTP_STATUS: Readonly<Record<CubbyErrorCode, number>> = {
  BAD_MESSAGE: 400,
  INVALID_KEY: 400,
  INVALID_VALUE: 400,
  INVALID_USER_ID: 400,
  PROTOCOL_VERSION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PENDING_WRITES: 409,
  VALUE_TOO_LARGE: 413,
  MESSAGE_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  CONFLICT: 412,
  // WebSocket only (a push's order on its connection); listed because every code has a status.
  OUT_OF_ORDER: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  STORAGE_ERROR: 500,
  CLOSED: 503,
  // Client only (the server never sends them); listed because every code has a status.
  NETWORK: 502,
  CACHE_FULL: 507,
  CACHE_EVICTED: 500,
  CACHE_UNAVAILABLE: 500,
  STORAGE_FULL: 507,
}

/** The server's metrics, for the handlers that count refusals (set on every request by the router). @internal */
const metricsOf = (res: Response): ServerMetrics | undefined => res.locals.cubbyMetrics as ServerMetrics | undefined

/**
 * Answers `{ error: { code, message, retryAfter?, reason? } }` with the code's status; a `retryAfter` is also
 * sent as the `Retry-After` header. With a `refused` kind, the refusal is counted in the metrics (it is decided
 * here, not by a write's result, which the writer counts).
 * @internal
 */
export function sendError(
  res: Response, code: CubbyErrorCode, message: string,
  { refused, ...details }: { retryAfter?: number; reason?: UnauthorizedReason; refused?: RefusalKind } = {},
): void {
  if (refused !== undefined) metricsOf(res)?.refused(code, refused)
  if (code === 'UNAUTHORIZED') res.set('WWW-Authenticate', 'Bearer')
  if (details.retryAfter !== undefined) res.set('Retry-After', String(details.retryAfter))
  res.status(HTTP_STATUS[code]).json({ error: { code, message, ...details } })
}

/**
 * Refuses a request whose `Content-Length` is over `maxBytes` at once, before reading any of its body, and closes
 * the connection after the answer (body-parser would first read the whole announced body off the socket).
 * @internal
 */
export function refuseOversizedBodies(maxBytes: number): RequestHandler {
  return (req, res, next) => {
    const length = Number(req.get('content-length') ?? 0)
    if (!(length > maxBytes)) return next()
    res.set('Connection', 'close').once('finish', () => req.socket.destroy())
    sendError(res, 'MESSAGE_TOO_LARGE', `The body may be at most ${maxBytes} bytes`, { refused: 'body' })
  }
}

/** The shape of the errors body-parser and the router raise (http-errors). */
interface HttpError {
  status?: unknown
  type?: unknown
  expose?: unknown
  message?: unknown
}

/**
 * Turns any error into the JSON error shape: CubbyErrors keep their code, body-parser's errors become
 * `MESSAGE_TOO_LARGE` or `BAD_MESSAGE`, and anything else is logged and answered `INTERNAL` without details.
 * @internal
 */
export function createErrorHandler(logger: CubbyLogger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error)
    if (error instanceof CubbyError) return sendError(res, error.code, error.message)
    const e = (typeof error === 'object' && error !== null ? error : {}) as HttpError
    if (e.status === 413 || e.type === 'entity.too.large') {
      res.set('Connection', 'close')
      return sendError(res, 'MESSAGE_TOO_LARGE', 'The body is too large', { refused: 'body' })
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, 'BAD_MESSAGE', e.expose === true && typeof e.message === 'string' ? e.message : 'Bad request')
    }
    logger.error('HTTP request failed', error, { event: 'storage-error', operation: 'read' })
    metricsOf(res)?.storageError('read')
    sendError(res, 'INTERNAL', 'Internal server error')
  }
}

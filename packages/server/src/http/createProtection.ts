import type { Socket } from 'node:net'
import type { RequestHandler } from 'express'
import type { Protection } from '../limits/Protection.js'
import { TokenBucket } from '../limits/RateLimiter.js'
import { sendError } from './httpErrors.js'

const ALLOW_METHODS = 'GET, PUT, POST, DELETE'
const ALLOW_HEADERS = 'Authorization, Content-Type, X-Cubby-Ttl, If-Match, If-None-Match'
const EXPOSE_HEADERS = 'X-Cubby-Rev, X-Cubby-Expires-At, Expires, ETag, Retry-After'

/**
 * The abuse limits of the HTTP API: refuses browser origins outside the policy (`FORBIDDEN`), answers CORS for
 * the allowed ones (preflights included), and spends one token of the connection's and of the remote address's
 * rate limit per request (`RATE_LIMITED`, with `Retry-After`).
 * @internal
 */
export function createProtection(protection: Protection): RequestHandler {
  const buckets = new WeakMap<Socket, TokenBucket>()
  const bucketOf = (socket: Socket): TokenBucket => {
    let bucket = buckets.get(socket)
    if (bucket === undefined) buckets.set(socket, (bucket = new TokenBucket(protection.options.connectionRate)))
    return bucket
  }
  return (req, res, next) => {
    const origin = req.get('origin')
    if (!protection.options.origins.allows(origin, req.get('host'))) {
      return sendError(res, 'FORBIDDEN', 'This origin may not use this server', { refused: 'origin' })
    }
    if (origin !== undefined) {
      res.vary('Origin').set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSE_HEADERS })
    }
    const wait = bucketOf(req.socket).take() || protection.takeAddress(protection.addressOf(req))
    if (wait > 0) return sendError(res, 'RATE_LIMITED', 'Too many requests; retry after retryAfter seconds', { retryAfter: wait, refused: 'address' })
    if (req.method === 'OPTIONS' && origin !== undefined) {
      res.set({ 'Access-Control-Allow-Methods': ALLOW_METHODS, 'Access-Control-Allow-Headers': ALLOW_HEADERS, 'Access-Control-Max-Age': '600' })
      return void res.status(204).end()
    }
    next()
  }
}

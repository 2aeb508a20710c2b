import {
  CubbyError, JSON_CONTENT_TYPE, MAX_DEVICE_LABEL_BYTES, utf8Length, type DeviceListResponse, type RedeemLinkResponse,
} from '@cubby/protocol'
import express, { type Request, type RequestHandler, type Response, type Router } from 'express'
import { isDeviceId, type DeviceLinks } from '../auth/DeviceLinks.js'
import { NEW_IDENTITY_MESSAGE } from '../auth/IdentityAdmission.js'
import { UNAUTHORIZED_MESSAGES } from '../auth/TokenAuth.js'
import type { HttpContext } from './HttpContext.js'
import { sendError } from './httpErrors.js'
import { readTextBody } from './readTextBody.js'

const BEARER = /^Bearer +(\S+) *$/i
/** A device route's body is a few fields: far below the value limit. */
const MAX_BODY_BYTES = 4096

/** The JSON object of a request body (read as text by readTextBody, or already parsed by a host app's parser). */
function bodyOf(req: Request): Record<string, unknown> {
  let body: unknown = req.body
  if (body === undefined || body === '') return {}
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch {
      throw new CubbyError('BAD_MESSAGE', 'The body must be JSON')
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CubbyError('BAD_MESSAGE', 'The body must be a JSON object')
  return body as Record<string, unknown>
}

function deviceIdOf(req: Request): string {
  const id = req.params.id
  if (!isDeviceId(id)) throw new CubbyError('NOT_FOUND', 'No such device')
  return id
}

/** The device links of a storage that keeps them; `NOT_FOUND` otherwise. */
function linksOf(devices: DeviceLinks | undefined): DeviceLinks {
  if (devices === undefined) throw new CubbyError('NOT_FOUND', 'This server\'s storage keeps no devices')
  return devices
}

async function createLink(devices: DeviceLinks, req: Request, res: Response): Promise<void> {
  const { ttlSeconds } = bodyOf(req)
  if (ttlSeconds !== undefined && (!Number.isSafeInteger(ttlSeconds) || (ttlSeconds as number) < 1)) {
    throw new CubbyError('BAD_MESSAGE', 'ttlSeconds must be a positive integer')
  }
  const link = await devices.createLink(res.locals.userId as string, ttlSeconds as number | undefined)
  if ('retryAfter' in link) {
    return sendError(res, 'RATE_LIMITED', 'This user holds too many live link codes; retry after retryAfter seconds', { retryAfter: link.retryAfter, refused: 'link-codes' })
  }
  res.status(201).json(link)
}

/** `POST /v1/devices/links/redeem`: `Authorization: Bearer <device token of the new key>`, body `{ code, label? }`. */
async function redeem(ctx: HttpContext, devices: DeviceLinks, req: Request, res: Response): Promise<void> {
  const { code, label = '' } = bodyOf(req)
  if (typeof label !== 'string' || utf8Length(label) > MAX_DEVICE_LABEL_BYTES) {
    throw new CubbyError('BAD_MESSAGE', `label must be a string of at most ${MAX_DEVICE_LABEL_BYTES} UTF-8 bytes`)
  }
  const header = req.get('authorization')
  const token = header === undefined ? undefined : BEARER.exec(header)?.[1]
  const proof = token === undefined ? { reason: header === undefined ? 'missing' as const : 'invalid' as const } : await ctx.auth.checkDeviceKey(token, { host: req.get('host') })
  if ('reason' in proof) {
    const { reason } = proof
    return sendError(res, 'UNAUTHORIZED', `Prove the new device's key: ${UNAUTHORIZED_MESSAGES[reason]} (a device token of the new key, sub anon_key_<its thumbprint>)`, { reason, refused: reason })
  }
  if (!isDeviceId(code)) throw new CubbyError('BAD_MESSAGE', 'code must be a link code (43 base64url characters)')
  // Each redemption may add a device: it spends one of the address's new identities.
  const wait = ctx.identities.takeNew(ctx.protection.addressOf(req))
  if (wait > 0) return sendError(res, 'RATE_LIMITED', NEW_IDENTITY_MESSAGE, { retryAfter: wait, refused: 'identity' })
  const userId = await devices.redeem(code, { deviceId: proof.deviceId, jwk: proof.jwk, label })
  if (userId === undefined) throw new CubbyError('NOT_FOUND', 'No such link code: unknown, already used or expired')
  res.json({ userId, deviceId: proof.deviceId } satisfies RedeemLinkResponse)
}

async function listDevices(devices: DeviceLinks, userId: string, currentId: string | undefined, res: Response): Promise<void> {
  res.json({ devices: await devices.list(userId, currentId) } satisfies DeviceListResponse)
}

async function revokeDevice(devices: DeviceLinks, userId: string, deviceId: string, res: Response): Promise<void> {
  if (!(await devices.revoke(userId, deviceId))) throw new CubbyError('NOT_FOUND', 'No such device')
  res.json({ revoked: true })
}

/**
 * The device routes of a user, behind `user` (any accepted token): `POST /v1/devices/links` (a one-time code),
 * `POST /v1/devices/links/redeem` (no user token: the new device's own key proves itself), `GET /v1/devices`,
 * `DELETE /v1/devices/:id`. `NOT_FOUND` when the storage keeps no devices.
 * @internal
 */
export function createDeviceRoutes(ctx: HttpContext, user: RequestHandler): Router {
  const router = express.Router({ strict: true })
  const body = readTextBody({ types: [JSON_CONTENT_TYPE], maxBytes: MAX_BODY_BYTES })
  const devices = (): DeviceLinks => linksOf(ctx.devices)
  router.post('/v1/devices/links/redeem', body, (req, res) => redeem(ctx, devices(), req, res))
  router.post('/v1/devices/links', user, body, (req, res) => createLink(devices(), req, res))
  router.get('/v1/devices', user, (_req, res) => listDevices(devices(), res.locals.userId as string, res.locals.deviceId as string | undefined, res))
  router.delete('/v1/devices/:id', user, (req, res) => revokeDevice(devices(), res.locals.userId as string, deviceIdOf(req), res))
  return router
}

/**
 * The admin's device routes, under `/v1/admin` and its credential: `GET /users/:userId/devices` and
 * `DELETE /users/:userId/devices/:id`.
 * @internal
 */
export function createAdminDeviceRoutes(devices: DeviceLinks | undefined, userIdOf: (req: Request) => string): Router {
  const router = express.Router()
  router.get('/users/:userId/devices', (req, res) => listDevices(linksOf(devices), userIdOf(req), undefined, res))
  router.delete('/users/:userId/devices/:id', (req, res) => revokeDevice(linksOf(devices), userIdOf(req), deviceIdOf(req), res))
  return router
}

import { createHash, randomBytes } from 'node:crypto'
import {
  CLOSE_CODES, CubbyError, DEFAULT_LINK_CODE_SECONDS, DEVICE_USER_PREFIX, MAX_DEVICES_PER_USER, MAX_LINK_CODE_SECONDS, MAX_LINK_CODES_PER_USER,
  type DeviceInfo, type DevicePublicJwk, type ErrorMessage, type LinkCodeResponse,
} from '@cubby/protocol'
import type { ChangeBus } from '../sync/ChangeBus.js'
import type { SyncHub } from '../sync/SyncHub.js'
import type { DeviceRecord, DeviceRegistry } from './DeviceRegistry.js'
import { UNAUTHORIZED_MESSAGES } from './TokenAuth.js'

/** The last frame a revoked device's sessions get before they close with `CLOSE_CODES.UNAUTHORIZED`. @internal */
export const DEVICE_REVOKED_FRAME: ErrorMessage = { type: 'error', code: 'UNAUTHORIZED', message: UNAUTHORIZED_MESSAGES.revoked, reason: 'revoked' }

/** A link code or device id as sent: 43 base64url characters (32 bytes; a SHA-256 thumbprint for device ids). @internal */
export const isDeviceId = (s: unknown): s is string => typeof s === 'string' && /^[A-Za-z0-9_-]{43}$/.test(s)

const hashOf = (code: string): string => createHash('sha256').update(code).digest('base64url')

/** What {@link DeviceLinks.redeem} registers: the key a device proved it holds, and its label. @internal */
export interface NewDevice {
  deviceId: string
  jwk: DevicePublicJwk
  label: string
}

/**
 * Users' devices: one-time link codes, linking a key to a user, listing and revoking. A revocation is stored
 * first, then ends the device's sessions on this node and, through the bus, on every other.
 * @internal
 */
export class DeviceLinks {
  readonly #registry: DeviceRegistry
  readonly #hub: SyncHub
  readonly #bus: ChangeBus | undefined
  readonly #ready: () => Promise<void>

  constructor(options: { registry: DeviceRegistry; hub: SyncHub; bus?: ChangeBus; ready: () => Promise<void> }) {
    this.#registry = options.registry
    this.#hub = options.hub
    this.#bus = options.bus
    this.#ready = options.ready
  }

  /**
   * A new one-time code of the user, living `ttlSeconds` (cut to {@link MAX_LINK_CODE_SECONDS}).
   * @returns the code, or the seconds until one of the user's {@link MAX_LINK_CODES_PER_USER} live codes expires.
   */
  async createLink(userId: string, ttlSeconds = DEFAULT_LINK_CODE_SECONDS): Promise<LinkCodeResponse | { retryAfter: number }> {
    await this.#ready()
    const code = randomBytes(32).toString('base64url')
    const now = Date.now()
    const expiresAt = now + Math.min(ttlSeconds, MAX_LINK_CODE_SECONDS) * 1000
    const wait = await this.#registry.createLink(userId, hashOf(code), { expiresAt, now, max: MAX_LINK_CODES_PER_USER })
    return wait > 0 ? { retryAfter: Math.ceil(wait / 1000) } : { code, expiresAt }
  }

  /**
   * Takes the code (whatever follows) and registers the device as one of the code's user.
   * @returns the user; `undefined` for a code that is unknown, used, expired, or whose user was deleted since.
   * @throws CubbyError `UNAUTHORIZED` when the key was revoked for that user, `QUOTA_EXCEEDED` when the user has
   * {@link MAX_DEVICES_PER_USER} devices.
   */
  async redeem(code: string, device: NewDevice): Promise<string | undefined> {
    await this.#ready()
    const link = await this.#registry.redeemLink(hashOf(code), Date.now())
    if (link === undefined) return undefined
    const { userId } = link
    // A self-certified user's own key is its device already (and revoked for good if revoked).
    const own = userId === `${DEVICE_USER_PREFIX}${device.deviceId}`
    const record: DeviceRecord = { id: device.deviceId, jwk: device.jwk, label: device.label, createdAt: Date.now() }
    const ownerKey = userId.startsWith(DEVICE_USER_PREFIX) ? userId.slice(DEVICE_USER_PREFIX.length) : undefined
    // A self-certified user's own key gets a record of its own with its first linked device, which keeps its lastSeen.
    if (ownerKey !== undefined && !own) await this.#registry.addDevice(userId, { id: ownerKey, label: '', createdAt: 0 }, MAX_DEVICES_PER_USER)
    const added = own ? ((await this.#registry.device(userId, device.deviceId))?.revokedAt === undefined ? 'exists' : 'revoked') : await this.#registry.addDevice(userId, record, MAX_DEVICES_PER_USER)
    if (added === 'revoked') throw new CubbyError('UNAUTHORIZED', 'This key was revoked for that user; link a new key')
    if (added === 'full') throw new CubbyError('QUOTA_EXCEEDED', `A user may have at most ${MAX_DEVICES_PER_USER} devices (revoked ones included)`)
    return userId
  }

  /** The user's devices, live and revoked, with the self-certified user's own key first; `current` marks `currentId`. */
  async list(userId: string, currentId: string | undefined): Promise<DeviceInfo[]> {
    await this.#ready()
    const records = await this.#registry.devices(userId)
    const ownId = userId.startsWith(DEVICE_USER_PREFIX) ? userId.slice(DEVICE_USER_PREFIX.length) : undefined
    const ownIndex = records.findIndex((r) => r.id === ownId)
    if (ownId !== undefined) records.unshift(ownIndex < 0 ? { id: ownId, label: '', createdAt: 0 } : records.splice(ownIndex, 1)[0]!)
    return records.map(({ id, label, createdAt, revokedAt, lastSeen }) => ({
      id, label, createdAt, ...(revokedAt === undefined ? {} : { revokedAt }), ...(lastSeen === undefined ? {} : { lastSeen }), current: id === currentId,
    }))
  }

  /**
   * Revokes a device of the user (a linked one, or a self-certified user's own key): its tokens are refused from
   * now on and its live sessions end, here and on every node.
   * @returns `false` when the user has no such device.
   */
  async revoke(userId: string, deviceId: string): Promise<boolean> {
    await this.#ready()
    const own = userId === `${DEVICE_USER_PREFIX}${deviceId}`
    if (!own && (await this.#registry.device(userId, deviceId)) === undefined) return false
    await this.#registry.revokeDevice(userId, deviceId, Date.now())
    // Also when it was revoked already: a session that raced the first revocation ends now.
    this.endDevice(userId, deviceId)
    await this.#bus?.publishDeviceRevoked?.(userId, deviceId)
    return true
  }

  /** Ends the sessions of a revoked device on this node (revoked here, or on another node). */
  endDevice(userId: string, deviceId: string): void {
    this.#hub.endDevice(userId, deviceId, DEVICE_REVOKED_FRAME, CLOSE_CODES.UNAUTHORIZED, UNAUTHORIZED_MESSAGES.revoked)
  }

  /** Removes the user's devices and link codes (the user is being deleted). */
  async deleteUser(userId: string): Promise<void> {
    await this.#registry.deleteUser(userId)
  }
}

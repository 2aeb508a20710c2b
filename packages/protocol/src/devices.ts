/** Seconds a device link code lives when `POST /v1/devices/links` names no `ttlSeconds`. */
export const DEFAULT_LINK_CODE_SECONDS = 600

/** Most seconds a link code may live; a longer `ttlSeconds` is cut to this. */
export const MAX_LINK_CODE_SECONDS = 3600

/** Most link codes one user may hold unredeemed and unexpired at once; one more is `RATE_LIMITED`. */
export const MAX_LINK_CODES_PER_USER = 5

/** Most devices (live and revoked) one user may have registered; one more is `QUOTA_EXCEEDED`. */
export const MAX_DEVICES_PER_USER = 100

/** Most UTF-8 bytes of a device's label. */
export const MAX_DEVICE_LABEL_BYTES = 200

/** A device's `lastSeen` is written at most this often: accepting its tokens costs no write in between. */
export const DEVICE_SEEN_INTERVAL_MS = 60_000

/** The answer to `POST /v1/devices/links`: a one-time code to hand to the new device (as a URL or QR code). */
export interface LinkCodeResponse {
  /** 32 random bytes in base64url (43 characters); the server keeps only its SHA-256. */
  code: string
  /** When the code stops working, milliseconds since the epoch. */
  expiresAt: number
}

/** The answer to `POST /v1/devices/links/redeem`: the user the new device now belongs to. */
export interface RedeemLinkResponse {
  /** The `sub` the new device's tokens name from now on. */
  userId: string
  /** The new device's id (its key's RFC 7638 thumbprint). */
  deviceId: string
}

/** One device of a user, as `GET /v1/devices` lists it. */
export interface DeviceInfo {
  /** The RFC 7638 SHA-256 thumbprint (base64url) of the device's P-256 public key. */
  id: string
  /** What the device called itself when it was linked; `''` when nothing. */
  label: string
  /** When the device was linked, ms since the epoch (0 for the key a self-certified user was created with). */
  createdAt: number
  /** When the device was revoked, ms since the epoch; absent while it is live. */
  revokedAt?: number
  /**
   * When the server last accepted a token of this device, ms since the epoch, kept at most once a minute
   * ({@link DEVICE_SEEN_INTERVAL_MS}); absent until then.
   */
  lastSeen?: number
  /** Whether the request was signed by this device's key. */
  current: boolean
}

/** The answer to `GET /v1/devices` and `GET /v1/admin/users/:id/devices`. */
export interface DeviceListResponse {
  devices: DeviceInfo[]
}

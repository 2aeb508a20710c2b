/** One registered device of a user, as a {@link DeviceRegistry} keeps it. */
export interface DeviceRecord {
  /** The RFC 7638 SHA-256 thumbprint (base64url) of the device's P-256 public key. */
  id: string
  /** The device's public key (EC P-256, public members only); `undefined` for a revocation of a key never linked. */
  jwk?: { kty: 'EC'; crv: 'P-256'; x: string; y: string }
  /** What the device called itself; `''` when nothing. */
  label: string
  /** When it was linked, ms since the epoch; 0 for a revocation of a key never linked (a self-certified user's own key). */
  createdAt: number
  /** When it was revoked, ms since the epoch; `undefined` while live. */
  revokedAt?: number
  /** When a token of it was last accepted, ms since the epoch (see {@link DeviceRegistry.seeDevice}). */
  lastSeen?: number
}

/** What {@link DeviceRegistry.addDevice} did. */
export type AddDeviceResult = 'added' | 'exists' | 'revoked' | 'full'

/** A live link code's owner and expiry. */
export interface LinkCodeRecord {
  userId: string
  /** Milliseconds since the epoch. */
  expiresAt: number
}

/**
 * Where a storage keeps users' devices and their one-time link codes (`storage.devices`). Codes are stored by their
 * SHA-256 (base64url), never in clear. Each storage must pass `runDeviceRegistryContract`.
 */
export interface DeviceRegistry {
  /**
   * Stores a new link code of `userId` unless the user already holds `max` live (unexpired, unredeemed) ones.
   * @returns 0, or the milliseconds until the user's oldest live code expires (then nothing was stored).
   */
  createLink(userId: string, codeHash: string, options: { expiresAt: number; now: number; max: number }): Promise<number>
  /**
   * Takes a link code, once: whoever calls first with an unexpired code gets its record and the code is gone;
   * every later call, an expired code, or a code of a user deleted since gets `undefined`.
   */
  redeemLink(codeHash: string, now: number): Promise<LinkCodeRecord | undefined>
  /**
   * Registers a device of `userId`, unless the user has it already (`exists`: left as it was), revoked it
   * (`revoked`: a revoked key never comes back for that user), or has `max` device records (`full`).
   */
  addDevice(userId: string, device: DeviceRecord, max: number): Promise<AddDeviceResult>
  /** One device record of the user (live or revoked), or `undefined`. */
  device(userId: string, id: string): Promise<DeviceRecord | undefined>
  /** Every device record of the user (live and revoked), in id order; at most the `max` of {@link addDevice}. */
  devices(userId: string): Promise<DeviceRecord[]>
  /**
   * Marks a device revoked at `at` (a record without key when the user never linked it: a self-certified user's
   * own key). Revoking a revoked device keeps the first time.
   * @returns whether it was live before (false when already revoked).
   */
  revokeDevice(userId: string, id: string, at: number): Promise<boolean>
  /**
   * Notes that a token of a live device was accepted at `at`: sets its `lastSeen`, never backwards, and never on a
   * revoked or missing record (it creates none: a deletion or revocation is never undone by it).
   */
  seeDevice(userId: string, id: string, at: number): Promise<void>
  /** Removes every device record and every link code of the user (when the user is deleted). */
  deleteUser(userId: string): Promise<void>
}

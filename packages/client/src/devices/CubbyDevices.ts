import type { DeviceInfo } from '@cubby/protocol'
import type { CubbyCacheProvider } from '../cache/CubbyCache.js'
import type { CubbyOptions } from '../CubbyOptions.js'
import type { Session } from '../loadReplica.js'

/** Options of {@link CubbyDevices.link}. */
export interface LinkOptions {
  /** How long the code works, in seconds; the server cuts it to its maximum (3,600). @default 600 (the server's) */
  ttlSeconds?: number
  /**
   * The page the other device should open: the result's `url` is this URL with `#link=<code>` as its fragment
   * (a fragment never reaches a server, its logs or a `Referer`). Without it, there is no `url`.
   */
  pageUrl?: string | URL
}

/** A one-time link code, made by {@link CubbyDevices.link}. */
export interface LinkCode {
  /** 43 base64url characters; it works once, until {@link expiresAt}. */
  code: string
  /** When the code stops working, ms since the epoch (server time). */
  expiresAt: number
  /** {@link LinkOptions.pageUrl} with `#link=<code>`, to show as a link or a QR code; only with `pageUrl`. */
  url?: string
}

/**
 * One device of the user, as {@link CubbyDevices.list} gives it: its id, label, `createdAt`, `lastSeen` (when the
 * server last accepted one of its tokens, kept at most once a minute), `revokedAt`, and whether it is this one.
 */
export type CubbyDevice = DeviceInfo

/** Options of {@link CubbyDevices.redeem}. */
export interface RedeemOptions {
  /** What this device calls itself in the user's device list, at most 200 UTF-8 bytes. @default '' */
  label?: string
  /**
   * Throw away this device's writes the server has not acknowledged (they belong to the user this device was
   * until now) instead of refusing with `PENDING_WRITES`.
   * @default false
   */
  discardPending?: boolean
}

/** What {@link CubbyDevices.redeem} did. */
export interface RedeemResult<TClient> {
  /** The user this device now is. */
  userId: string
  /** This device's id in that user's device list. */
  deviceId: string
  /** A new client of that user, with the same options; the one that redeemed is closed. */
  cubby: TClient
}

/**
 * A user's devices, as seen from one of them: link another device with a one-time code, list them, revoke one, and
 * redeem a code made on another device. Every call goes to the server (it needs the network).
 */
export interface CubbyDevices<TClient> {
  /**
   * Makes a one-time code with which another device joins this user.
   *
   * @throws CubbyError `RATE_LIMITED` (5 live codes; `retryAfter` says when one expires), `NETWORK`, `UNAUTHORIZED`,
   *   `NOT_FOUND` when the server keeps no devices, `CLOSED`.
   * @example
   * ```ts
   * const { url, expiresAt } = await cubby.devices.link({ pageUrl: location.href })
   * ```
   */
  link(options?: LinkOptions): Promise<LinkCode>
  /**
   * Lists the user's devices, live and revoked; `current` marks this one.
   *
   * @throws CubbyError as {@link link}.
   * @example
   * ```ts
   * for (const d of await cubby.devices.list()) console.log(d.label, d.current, d.revokedAt)
   * ```
   */
  list(): Promise<CubbyDevice[]>
  /**
   * Revokes a device of the user, for good: its key is refused from now on, and its live sessions end at once
   * (its client reports `UNAUTHORIZED` with `reason: 'revoked'` and stops connecting).
   *
   * @throws CubbyError `NOT_FOUND` for an id that is no device of the user; as {@link link}.
   * @example
   * ```ts
   * await cubby.devices.revoke(lostPhone.id)
   * ```
   */
  revoke(id: string): Promise<void>
  /**
   * Joins the user of a code made on another device: registers this device's key with that user, stores the
   * identity (same key, the new user) so that reloads stay that user, deletes the local data of the user this
   * device was until now (it stays on the server), closes this client and returns a new one of the new user.
   *
   * @throws CubbyError `NOT_FOUND` for a code that is unknown, used or expired; `UNAUTHORIZED` when this key was
   *   revoked for that user; `QUOTA_EXCEEDED` (100 devices); `RATE_LIMITED`; `PENDING_WRITES` while this device has
   *   writes the server has not acknowledged (unless `discardPending`); `NETWORK`; `CLOSED`. Nothing changes on a
   *   refusal. TypeError for a client with `auth` (its user comes from the app's tokens), or without WebCrypto.
   * @example
   * ```ts
   * const { cubby: linked } = await cubby.devices.redeem(code, { label: 'Phone' })
   * ```
   */
  redeem(code: string, options?: RedeemOptions): Promise<RedeemResult<TClient>>
}

/** What the device calls need from their client. @internal */
export interface DeviceContext<TClient> {
  options: CubbyOptions
  /** The loaded session. @throws CubbyError `CLOSED` */
  session(): Promise<Session>
  /** Writes not yet acknowledged, once loaded. */
  pendingCount(): Promise<number>
  provider(): CubbyCacheProvider
  /** Closes the client; with `destroy`, deletes the user's local database and tells the other tabs. */
  leave(destroy: boolean): Promise<void>
  /** A new client with the same options (and the same provider, when it is a memory one). */
  reopen(): TClient
}

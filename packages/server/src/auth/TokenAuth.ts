import { type KeyObject, createSecretKey, randomBytes } from 'node:crypto'
import { SignJWT, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions, type ProtectedHeaderParameters } from 'jose'
import { DEVICE_SEEN_INTERVAL_MS, type CubbyLimits, type DevicePublicJwk, type UnauthorizedReason } from '@cubby/protocol'
import { assertUserId } from '../writes/validateMutation.js'
import { ANONYMOUS_USER_PREFIX } from './anonymousUsers.js'
import type { DeviceRecord, DeviceRegistry } from './DeviceRegistry.js'
import { deviceAudiences, verifyDeviceToken, type DeviceTokenCheck } from './verifyDeviceToken.js'

/** Options of {@link TokenAuth}. @internal */
export interface TokenAuthOptions {
  /** HMAC key for HS256: signs new tokens and checks tokens. */
  secret: string
  /** Older secrets, during a rotation: they still check tokens, but never sign. */
  previousSecrets?: readonly string[]
  issuer: string | undefined
  audience: string | undefined
  authenticate: ((token: string) => Promise<string | undefined>) | undefined
  limits: CubbyLimits
  /**
   * When a user was last deleted (seconds), or `undefined`: JWTs of that user issued (`iat`) at or before it are
   * refused. Not consulted for tokens the `authenticate` hook accepts.
   */
  deletedAt?: (userId: string) => Promise<number | undefined>
  /** Seconds a token of {@link TokenAuth.issueAnonymous} (`POST /v1/identities`) lives; `undefined`: no `exp`. */
  anonymousTokenTtl?: number
  /** Seconds a token of {@link TokenAuth.issueToken} for an app's user lives; `undefined`: no `exp`. */
  tokenTtl?: number
  /** Whether self-certified device tokens (ES256, `jwk` header) are accepted. @default false */
  selfCertified?: boolean
  /** The audiences device tokens must name; without them, the origins of the request's Host. */
  publicOrigins?: readonly string[]
  /**
   * The registered devices: a device token whose `sub` is not its key's own user is accepted iff the key is a live
   * device of `sub`, and a self-certified user's own key is refused once revoked. Without it, only self-certified.
   * An accepted token of a registered device sets its `lastSeen`, at most once per {@link DEVICE_SEEN_INTERVAL_MS}.
   */
  devices?: Pick<DeviceRegistry, 'device' | 'seeDevice'>
}

/** Where a token was presented, for the audience of device tokens. @internal */
export interface TokenRequest {
  /** The request's `Host` header. */
  host: string | undefined
}

/** What {@link TokenAuth.check} found: the token's user, or why the token is refused. @internal */
export type TokenCheck =
  | {
    userId: string; reason?: undefined
    /** A device's own key signed the token (a self-certified anonymous user). */
    selfCertified?: boolean
    /** The id (key thumbprint) of the device that signed the token; `undefined` for server-signed and hook tokens. */
    deviceId?: string
  }
  | { userId?: undefined; reason: Exclude<UnauthorizedReason, 'missing'> }

/** What a refusal says for each reason (the `reason` field is the contract, the message may change). @internal */
export const UNAUTHORIZED_MESSAGES: Readonly<Record<UnauthorizedReason, string>> = {
  missing: 'Send a token as Authorization: Bearer <token>',
  invalid: 'The token is not valid (malformed, badly signed or not accepted by this server)',
  expired: 'The token has expired',
  revoked: 'The token was issued before its user was deleted, or its device was revoked',
}

/** The protected header of a compact JWS, or `undefined` when it does not parse. */
function protectedHeaderOf(token: string): ProtectedHeaderParameters | undefined {
  try {
    return decodeProtectedHeader(token)
  } catch {
    return undefined
  }
}

/** A token whose signature verified but which is past its `exp`. */
class ExpiredToken extends Error {}

/**
 * Issues and checks bearer tokens: JWTs signed with HS256 whose `sub` is the user id, or whatever the
 * app's `authenticate` hook accepts.
 * @internal
 */
export class TokenAuth {
  #key!: KeyObject
  /** The current key first, then the previous ones. */
  #keys!: KeyObject[]
  readonly #options: TokenAuthOptions

  constructor(options: TokenAuthOptions) {
    this.#options = options
    this.setSecrets(options.secret, options.previousSecrets ?? [])
  }

  /** Replaces the secrets (a rotation): `secret` signs from now on, it and `previousSecrets` check tokens. */
  setSecrets(secret: string, previousSecrets: readonly string[]): void {
    // KeyObjects made once: given raw bytes, jose imports a new key on every sign and verify, which is
    // garbage per connection (it showed in the idle-connection benchmark's memory).
    const encode = (s: string): KeyObject => createSecretKey(Buffer.from(s, 'utf8'))
    const key = encode(secret)
    this.#keys = [key, ...previousSecrets.map(encode)]
    this.#key = key
  }

  /**
   * Signs a token for `userId`, expiring after the TTL that applies to it (`anonymousTokenTtl` for `anon_…` users,
   * else `tokenTtl`; none when that is not set). @throws CubbyError `INVALID_USER_ID`.
   */
  async issueToken(userId: string): Promise<string> {
    assertUserId(userId, this.#options.limits)
    const ttl = userId.startsWith(ANONYMOUS_USER_PREFIX) ? this.#options.anonymousTokenTtl : this.#options.tokenTtl
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt()
    if (ttl !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    if (this.#options.issuer !== undefined) jwt.setIssuer(this.#options.issuer)
    if (this.#options.audience !== undefined) jwt.setAudience(this.#options.audience)
    return jwt.sign(this.#key)
  }

  /** A new anonymous identity: a random user id and its token. */
  async issueAnonymous(): Promise<{ userId: string; token: string }> {
    const userId = `${ANONYMOUS_USER_PREFIX}${randomBytes(16).toString('base64url')}`
    return { userId, token: await this.issueToken(userId) }
  }

  /**
   * The user a token names, or `undefined` when it is not valid (bad signature, expired, bad user id, issued
   * before the user was deleted, ...).
   * @throws when the deletion marker cannot be read (a storage failure, or the server is closing).
   */
  async verify(token: string, request: TokenRequest = { host: undefined }): Promise<string | undefined> {
    return (await this.check(token, request)).userId
  }

  /**
   * The user a token names, or why it is refused: `expired` and `revoked` (issued before its user was deleted)
   * only once the signature verified, `invalid` for everything else, so that a forged token gets the same answer
   * whether or not the user it names exists.
   * @throws when the deletion marker cannot be read (a storage failure, or the server is closing).
   */
  async check(token: string, request: TokenRequest = { host: undefined }): Promise<TokenCheck> {
    const header = protectedHeaderOf(token)
    // A token carrying its own key is a device token, and only ever checked as one (never by a secret or the hook).
    if (header?.jwk !== undefined) return this.#checkDevice(token, header, request)
    return this.#checkSigned(token)
  }

  /**
   * A new token for the user of a still-valid token this server signed (HS256, not a device token, not one of the
   * `authenticate` hook), with a fresh `iat` and `exp`; or why not (`invalid` for tokens of other kinds).
   * @throws when the deletion marker cannot be read.
   */
  async refresh(token: string): Promise<{ userId: string; token: string } | { reason: Exclude<UnauthorizedReason, 'missing'> }> {
    if (this.#options.authenticate !== undefined || protectedHeaderOf(token)?.jwk !== undefined) return { reason: 'invalid' }
    const checked = await this.#checkSigned(token)
    if (checked.userId === undefined) return checked
    return { userId: checked.userId, token: await this.issueToken(checked.userId) }
  }

  /**
   * Checks a device token as a proof that its sender holds a key (to link the key as a device): signed by the key
   * in its header, for this server's audience, in date, and naming the key's own self-certified user as `sub`.
   * Whether this server accepts self-certified users does not matter here; revocations are the caller's to check.
   */
  async checkDeviceKey(token: string, { host }: TokenRequest): Promise<{ deviceId: string; jwk: DevicePublicJwk } | { reason: 'invalid' | 'expired' }> {
    const header = protectedHeaderOf(token)
    if (header?.jwk === undefined) return { reason: 'invalid' }
    const checked = await verifyDeviceToken(token, header, { audiences: deviceAudiences(this.#options.publicOrigins, host) })
    if ('reason' in checked) return checked
    if (checked.linked) return { reason: 'invalid' }
    const { kty, crv, x, y } = header.jwk as unknown as DevicePublicJwk
    return { deviceId: checked.deviceId, jwk: { kty, crv, x, y } }
  }

  /** Checks a token signed with the server's secrets, or by the `authenticate` hook. */
  async #checkSigned(token: string): Promise<TokenCheck> {
    let claims: { userId: string; issuedAt: unknown }
    try {
      claims = await this.#claims(token)
    } catch (error) {
      return { reason: error instanceof ExpiredToken ? 'expired' : 'invalid' }
    }
    const { authenticate } = this.#options
    if (authenticate !== undefined) return { userId: claims.userId }
    return this.#unlessDeleted(claims.userId, claims.issuedAt)
  }

  async #checkDevice(token: string, header: ProtectedHeaderParameters, { host }: TokenRequest): Promise<TokenCheck> {
    const { selfCertified = false, publicOrigins, limits, devices } = this.#options
    if (!selfCertified && devices === undefined) return { reason: 'invalid' }
    const checked = await verifyDeviceToken(token, header, { audiences: deviceAudiences(publicOrigins, host) })
    if ('reason' in checked) return checked
    try {
      assertUserId(checked.userId, limits)
    } catch {
      return { reason: 'invalid' }
    }
    const device = await this.#deviceState(checked)
    if (device.reason !== undefined) return device
    const result = await this.#unlessDeleted(checked.userId, checked.issuedAt, device.linkedAt)
    if (result.userId === undefined) return result
    this.#seen(checked.userId, checked.deviceId, device.record)
    return { ...result, deviceId: checked.deviceId, ...(checked.linked ? {} : { selfCertified: true }) }
  }

  /**
   * Whether the signing key may act for the token's user: a linked key must be a live registered device of it (an
   * unknown key is `invalid`, like any token this server does not accept), a self-certified user's own key must not
   * be revoked. One read of the registry, never cached, so a revocation holds from the next check on.
   */
  async #deviceState({ userId, deviceId, linked }: Extract<DeviceTokenCheck, { userId: string }>): Promise<{ reason?: 'invalid' | 'revoked'; linkedAt?: number; record?: DeviceRecord }> {
    const { selfCertified = false, devices } = this.#options
    if (!linked && !selfCertified) return { reason: 'invalid' }
    const record = await devices?.device(userId, deviceId)
    if (linked && record === undefined) return { reason: 'invalid' }
    if (record?.revokedAt !== undefined) return { reason: 'revoked' }
    if (record === undefined) return {}
    return linked ? { linkedAt: record.createdAt, record } : { record }
  }

  /**
   * Sets the `lastSeen` of a registered device whose token was accepted, when the one read with it is older than
   * {@link DEVICE_SEEN_INTERVAL_MS}: no write in between. Not awaited: a failure only leaves it older.
   */
  #seen(userId: string, deviceId: string, record: DeviceRecord | undefined): void {
    const now = Date.now()
    if (record === undefined || now - (record.lastSeen ?? 0) < DEVICE_SEEN_INTERVAL_MS) return
    this.#options.devices?.seeDevice(userId, deviceId, now).catch(() => {})
  }

  /**
   * The user, or `revoked` when the token was issued at or before the user's deletion, or was signed by a device
   * linked (`linkedAt`, ms) at or before it: a device linked while the deletion ran is not left behind by it.
   */
  async #unlessDeleted(userId: string, issuedAt: unknown, linkedAt?: number): Promise<TokenCheck> {
    const { deletedAt } = this.#options
    if (deletedAt === undefined) return { userId }
    const deleted = await deletedAt(userId)
    if (deleted === undefined) return { userId }
    if (linkedAt !== undefined && Math.floor(linkedAt / 1000) <= deleted) return { reason: 'revoked' }
    // A token without `iat` cannot show it was issued after the deletion.
    return typeof issuedAt === 'number' && issuedAt > deleted ? { userId } : { reason: 'revoked' }
  }

  /** The user id (checked) and `iat` of a token, from the JWT or the `authenticate` hook. @throws when it is not valid. */
  async #claims(token: string): Promise<{ userId: string; issuedAt: unknown }> {
    const { authenticate, limits } = this.#options
    const { sub, iat } = authenticate === undefined ? await this.#verifyJwt(token) : { sub: await authenticate(token), iat: undefined }
    assertUserId(sub, limits)
    return { userId: sub, issuedAt: iat }
  }

  /**
   * The payload of a token signed with any of the keys (the current one first).
   * @throws ExpiredToken when a key verified the signature but the token is past its `exp` (jose checks the
   * signature before the claims), else whatever the last key's check threw.
   */
  async #verifyJwt(token: string): Promise<JWTPayload> {
    let failure: unknown
    for (const key of this.#keys) {
      try {
        return (await jwtVerify(token, key, this.#verifyOptions())).payload
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new ExpiredToken('The token has expired', { cause: error })
        failure = error
      }
    }
    throw failure
  }

  #verifyOptions(): JWTVerifyOptions {
    const { issuer, audience } = this.#options
    return { algorithms: ['HS256'], ...(issuer === undefined ? {} : { issuer }), ...(audience === undefined ? {} : { audience }) }
  }
}

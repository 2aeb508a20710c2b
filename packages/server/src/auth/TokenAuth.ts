import { type KeyObject, createSecretKey, randomBytes } from 'node:crypto'
import { SignJWT, jwtVerify, type JWTVerifyOptions } from 'jose'
import type { CubbyLimits } from '@cubby/protocol'
import { assertUserId } from '../writes/validateMutation.js'

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
}

/**
 * Issues and checks bearer tokens: JWTs signed with HS256 whose `sub` is the user id, or whatever the
 * app's `authenticate` hook accepts.
 * @internal
 */
export class TokenAuth {
  readonly #key: KeyObject
  /** The current key first, then the previous ones. */
  readonly #keys: KeyObject[]
  readonly #options: TokenAuthOptions

  constructor(options: TokenAuthOptions) {
    this.#options = options
    // KeyObjects made once: given raw bytes, jose imports a new key on every sign and verify, which is
    // garbage per connection (it showed in the idle-connection benchmark's memory).
    const encode = (secret: string): KeyObject => createSecretKey(Buffer.from(secret, 'utf8'))
    this.#key = encode(options.secret)
    this.#keys = [this.#key, ...(options.previousSecrets ?? []).map(encode)]
  }

  /** Signs a token for `userId` (no expiry). @throws CubbyError `INVALID_USER_ID`. */
  async issueToken(userId: string): Promise<string> {
    assertUserId(userId, this.#options.limits)
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt()
    if (this.#options.issuer !== undefined) jwt.setIssuer(this.#options.issuer)
    if (this.#options.audience !== undefined) jwt.setAudience(this.#options.audience)
    return jwt.sign(this.#key)
  }

  /** A new anonymous identity: a random user id and its token. */
  async issueAnonymous(): Promise<{ userId: string; token: string }> {
    const userId = `anon_${randomBytes(16).toString('base64url')}`
    return { userId, token: await this.issueToken(userId) }
  }

  /** The user a token names, or `undefined` when it is not valid (bad signature, expired, bad user id, ...). */
  async verify(token: string): Promise<string | undefined> {
    try {
      const userId = this.#options.authenticate === undefined ? await this.#verifyJwt(token) : await this.#options.authenticate(token)
      assertUserId(userId, this.#options.limits)
      return userId
    } catch {
      return undefined
    }
  }

  /** The `sub` of a token signed with any of the keys (the current one first). */
  async #verifyJwt(token: string): Promise<unknown> {
    let failure: unknown
    for (const key of this.#keys) {
      try {
        return (await jwtVerify(token, key, this.#verifyOptions())).payload.sub
      } catch (error) {
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

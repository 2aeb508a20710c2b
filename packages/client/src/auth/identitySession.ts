import type { CubbyError } from '@cubby/protocol'
import { asCubbyError } from '../asCubbyError.js'
import type { CubbyIdentity } from '../cache/CubbyCache.js'
import type { Session } from '../loadReplica.js'
import { refreshIssuedToken, tokenDueForRefresh } from './refreshIssuedToken.js'
import { signDeviceToken } from './deviceIdentity.js'

/** What {@link identitySession} needs. @internal */
export interface IdentitySessionOptions {
  /** The server's base URL: the device token's audience, and where issued tokens are refreshed. */
  url: string
  fetch: typeof fetch
  /** Keeps a refreshed identity, so that a reload starts from the new token. */
  save(identity: CubbyIdentity): Promise<void>
  /** Reports a refresh that failed for another reason than an unreachable server. */
  report(error: CubbyError): void
}

/**
 * The session of the default anonymous identity. A device identity signs a fresh short-lived token for every
 * connection. A server-issued token (from earlier versions, or where WebCrypto is missing) is renewed with
 * `POST /v1/tokens/refresh` once past half its lifetime: at a connection, and before its `exp` while connected
 * (`renews`); when that fails, the old token is used while it lasts.
 *
 * @internal
 */
export function identitySession(identity: CubbyIdentity, options: IdentitySessionOptions): Session {
  if (!('token' in identity)) return { userId: identity.userId, token: () => signDeviceToken(identity, options.url) }
  let current = identity.token
  let refreshing: Promise<string> | undefined
  const refresh = async (): Promise<string> => {
    try {
      current = await refreshIssuedToken(options.url, current, options.fetch)
      await options.save({ userId: identity.userId, token: current })
    } catch (cause) {
      const error = asCubbyError(cause, 'INTERNAL', 'Refreshing the token failed')
      if (error.code !== 'NETWORK') options.report(error)
    }
    return current
  }
  const token = (): Promise<string> => {
    if (!tokenDueForRefresh(current)) return Promise.resolve(current)
    refreshing ??= refresh().finally(() => (refreshing = undefined))
    return refreshing
  }
  return { userId: identity.userId, token, renews: true }
}

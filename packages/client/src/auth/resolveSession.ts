import { CubbyError, assertValidUserId } from '@cubby/protocol'
import type { CubbyIdentity } from '../cache/CubbyCache.js'
import { decodeJwtSub } from './decodeJwtSub.js'

/** Who the client is, and how it gets tokens. */
export interface Session {
  userId: string
  /** A token for the next connection. */
  token: () => Promise<string>
  /** Whether `token` may return a new token after the server refused one. */
  renewable: boolean
}

/** Where the anonymous identity comes from. */
export interface IdentitySource {
  load(): Promise<CubbyIdentity | undefined>
  save(identity: CubbyIdentity): Promise<void>
  /** Creates a new identity on the server, retrying until it succeeds (or the client closes). */
  create(): Promise<CubbyIdentity>
  /**
   * Runs `fn` alone among the tabs of this app (a Web Lock), so that two new tabs opened together do not
   * each create an identity, the later one orphaning what the first one wrote. @default runs `fn` directly
   */
  exclusive?: <TResult>(fn: () => Promise<TResult>) => Promise<TResult>
}

function userIdOf(token: string, userId: string | undefined, maxUserIdBytes: number): string {
  const id = userId ?? decodeJwtSub(token)
  if (id === undefined) throw new CubbyError('INVALID_USER_ID', 'The token is not a JWT with a `sub`: pass `userId` to createCubby')
  assertValidUserId(id, maxUserIdBytes)
  return id
}

/**
 * Resolves the `auth` option into a session: a fixed token, a token function (called again for every
 * connection), or the anonymous identity (loaded, or created and saved).
 *
 * @internal
 */
export async function resolveSession(
  auth: string | (() => string | Promise<string>) | undefined,
  options: { userId: string | undefined; maxUserIdBytes: number; identity: IdentitySource },
): Promise<Session> {
  if (typeof auth === 'string') {
    return { userId: userIdOf(auth, options.userId, options.maxUserIdBytes), token: async () => auth, renewable: false }
  }
  if (typeof auth === 'function') {
    let first: string | undefined = await auth()
    const userId = userIdOf(first, options.userId, options.maxUserIdBytes)
    const token = async (): Promise<string> => {
      const next = first ?? (await auth())
      first = undefined
      return next
    }
    return { userId, token, renewable: true }
  }
  const source = options.identity
  const loadOrCreate = async (): Promise<CubbyIdentity> => {
    const stored = await source.load()
    if (stored) return stored
    const created = await source.create()
    await source.save(created)
    return created
  }
  const { userId, token } = await (source.exclusive ? source.exclusive(loadOrCreate) : loadOrCreate())
  return { userId, token: async () => token, renewable: false }
}

import { CubbyError, type CubbyLimits, assertValidUserId, isCubbyErrorCode } from '@cubby/protocol'
import { asCubbyError } from './asCubbyError.js'
import type { CubbyOptions } from './CubbyOptions.js'
import { Replica, type ReplicaHooks } from './Replica.js'
import { decodeJwtSub } from './auth/decodeJwtSub.js'
import type { CubbyIdentity } from './cache/CubbyCache.js'
import type { StorageGuard } from './cache/openUserCache.js'
import { ServerClock } from './state/ServerClock.js'
import { LocalState } from './state/LocalState.js'
import { backoffDelay } from './sync/backoff.js'
import { randomClientId } from './sync/randomClientId.js'

/** Who the client is, and how it gets tokens. */
export interface Session {
  userId: string
  /** A token for the next connection. */
  token: () => Promise<string>
}

/** What {@link loadReplica} needs from the client. */
export interface LoadReplicaOptions {
  options: CubbyOptions
  limits: CubbyLimits
  storage: StorageGuard
  hooks: ReplicaHooks
  /** Aborted when the client closes. */
  signal: AbortSignal
  /** The client's connection state, which loading waits on and reports to. */
  link: LoadLink
}

/** What loading needs from the client's connection state (its {@link Link}). */
interface LoadLink {
  /** Resolves when the client wants to be online (creating an identity needs the network). */
  connectWanted(): Promise<void>
  /** Creating the identity finds the server unreachable. */
  offline(): void
  /** Takes a function that ends the current wait between attempts to create the identity. */
  waiting(wake: () => void): void
  /** The user is known, and their cache is about to be read (a memory cache is this tab's alone). */
  opening(userId: string, memoryCache: boolean): void
}

/** Waits `ms`, or less if `signal` aborts or `waiting`'s function is called; leaves no listener on `signal` behind. */
const sleep = (ms: number, signal: AbortSignal, waiting?: (wake: () => void) => void): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    waiting?.(done)
  })

/**
 * Asks the server for a new anonymous identity (`POST /v1/identities`).
 *
 * @throws CubbyError with the server's code when it refuses; `NETWORK` when it cannot be reached (also through
 * a proxy that answers 502 to 504 for it); `BAD_MESSAGE` naming the URL for an answer that is not Cubby's.
 */
async function createAnonymousIdentity(url: string, fetchFn: typeof fetch): Promise<CubbyIdentity> {
  const endpoint = `${url.replace(/\/+$/, '')}/v1/identities`
  let res: Response
  try {
    res = await fetchFn(endpoint, { method: 'POST' })
  } catch (cause) {
    throw new CubbyError('NETWORK', `Cannot reach ${endpoint}`, { cause })
  }
  const body = (await res.json().catch(() => undefined)) as { userId?: unknown; token?: unknown; error?: { code?: unknown; message?: unknown } } | undefined
  if (!res.ok) {
    const error = body?.error
    if (isCubbyErrorCode(error?.code)) throw new CubbyError(error.code, typeof error.message === 'string' ? error.message : error.code)
    const gateway = res.status >= 502 && res.status <= 504
    throw new CubbyError(gateway ? 'NETWORK' : 'BAD_MESSAGE', `POST ${endpoint}: HTTP ${res.status}${gateway ? '' : `, not from Cubby: is ${url} its base URL?`}`)
  }
  const { userId, token } = body ?? {}
  if (typeof userId !== 'string' || typeof token !== 'string') throw new CubbyError('BAD_MESSAGE', `POST ${endpoint} sent no identity`)
  return { userId, token }
}

/**
 * Creates the anonymous identity, retrying with backoff while offline and waiting while disconnected. A
 * network failure is reported once per outage (`NETWORK`, status `offline`); other failures each time.
 */
async function createIdentity({ options, hooks, signal, link }: LoadReplicaOptions): Promise<CubbyIdentity> {
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  let unreachable = false
  for (let attempt = 0; ; attempt++) {
    await link.connectWanted()
    signal.throwIfAborted()
    try {
      return await createAnonymousIdentity(options.url, fetchFn)
    } catch (cause) {
      const error = asCubbyError(cause, 'INTERNAL', 'Creating an identity failed')
      if (error.code !== 'NETWORK' || !unreachable) hooks.error(error)
      unreachable = error.code === 'NETWORK'
      if (unreachable) link.offline()
    }
    let woken = false
    await sleep(backoffDelay(attempt, options.reconnect), signal, (wake) => link.waiting(() => ((woken = true), wake())))
    link.waiting(() => {})
    // Woken because the network or the page came back: start the backoff over.
    if (woken) attempt = -1
  }
}

/**
 * Resolves the `auth` option into a session: a fixed token, a token function (called again for every
 * connection), or the anonymous identity (loaded, or created and saved).
 */
async function resolveSession(load: LoadReplicaOptions): Promise<Session> {
  const { options, storage } = load
  const { auth } = options
  const userIdOf = (token: string): string => {
    const id = options.userId ?? decodeJwtSub(token)
    if (id === undefined) throw new CubbyError('INVALID_USER_ID', 'The token has no `sub`: pass `userId`')
    assertValidUserId(id, load.limits.maxUserIdBytes)
    return id
  }
  if (typeof auth === 'function') {
    let first: string | undefined = await auth()
    const userId = userIdOf(first)
    const token = async (): Promise<string> => {
      const next = first ?? (await auth())
      first = undefined
      return next
    }
    return { userId, token }
  }
  if (typeof auth === 'string') return { userId: userIdOf(auth), token: async () => auth }
  const loadOrCreate = async (): Promise<CubbyIdentity> => {
    const stored = await storage.run((p) => p.loadIdentity())
    if (stored) return stored
    const created = await createIdentity(load)
    await storage.run((p) => p.saveIdentity(created))
    return created
  }
  // A Web Lock per app name, where the platform has Web Locks, so that two new tabs opened together do not each
  // create an identity, the later one orphaning what the first one wrote.
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  const { userId, token } = (await (typeof locks?.request === 'function'
    ? locks.request(`cubby-identity:${JSON.stringify(options.name ?? 'default')}`, { signal: load.signal }, loadOrCreate)
    : loadOrCreate()))
  return { userId, token: async () => token }
}

/**
 * Starts a client's data: resolves who the user is (token, JWT `sub`, or the anonymous identity), opens that
 * user's cache (falling back to memory where allowed) and reads it into memory.
 *
 * @throws CubbyError `INVALID_USER_ID` (a token that is not a JWT, without `userId`), `STORAGE_ERROR`, `CLOSED`.
 * @internal
 */
export async function loadReplica(load: LoadReplicaOptions): Promise<{ session: Session; replica: Replica }> {
  const { limits, storage, hooks } = load
  const session = await resolveSession(load)
  load.link.opening(session.userId, storage.provider.kind === 'memory')
  const { cache, snapshot } = await storage.open(session.userId)
  if (load.signal.aborted) {
    await cache.close()
    throw load.signal.reason
  }
  const clock = new ServerClock(load.options.now, snapshot.clockOffset)
  const state = new LocalState(snapshot, clock.now)
  // Frames stay well under the server's limit: escaping an encoded value in JSON can double its size.
  const maxFrameBytes = Math.floor(limits.maxMessageBytes / 2)
  return { session, replica: new Replica({ state, cache, hooks, clock, clientId: randomClientId(), maxFrameBytes }) }
}

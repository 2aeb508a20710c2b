import { CubbyError, type CubbyLimits } from '@cubby/protocol'
import type { CubbyOptions } from './CubbyOptions.js'
import { Replica, type ReplicaHooks } from './Replica.js'
import { createAnonymousIdentity } from './auth/createAnonymousIdentity.js'
import { type IdentitySource, type Session, resolveSession } from './auth/resolveSession.js'
import type { CubbyIdentity } from './cache/CubbyCache.js'
import type { StorageGuard } from './cache/openUserCache.js'
import { LocalState } from './state/LocalState.js'
import { backoffDelay } from './sync/backoff.js'
import { randomClientId } from './sync/randomClientId.js'

/** What {@link loadReplica} needs from the client. */
export interface LoadReplicaOptions {
  options: CubbyOptions
  limits: CubbyLimits
  storage: StorageGuard
  hooks: ReplicaHooks
  /** Aborted when the client closes. */
  signal: AbortSignal
  /** Resolves when the client wants to be online (creating an identity needs the network). */
  connectWanted: () => Promise<void>
  /** Called once the user is known, just before their cache is read. */
  opening?: (userId: string) => void
}

/** Waits `ms`, or less if `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

/** Creates the anonymous identity, retrying with backoff while offline and waiting while disconnected. */
async function createIdentity({ options, hooks, signal, connectWanted }: LoadReplicaOptions): Promise<CubbyIdentity> {
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  for (let attempt = 0; ; attempt++) {
    await connectWanted()
    signal.throwIfAborted()
    try {
      return await createAnonymousIdentity(options.url, fetchFn)
    } catch (cause) {
      hooks.error(cause instanceof CubbyError ? cause : new CubbyError('UNAUTHORIZED', 'Creating an anonymous identity failed', { cause }))
    }
    await sleep(backoffDelay(attempt, options.reconnect), signal)
  }
}

/** A Web Lock per app name around identity creation, where the platform has Web Locks. */
function identityLock(name: string, signal: AbortSignal): Pick<IdentitySource, 'exclusive'> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  if (typeof locks?.request !== 'function') return {}
  // request() resolves with what the callback resolves with (the DOM typings wrap it in one Promise too many).
  return { exclusive: <TResult>(fn: () => Promise<TResult>) => locks.request(`cubby-identity:${JSON.stringify(name)}`, { signal }, fn) as Promise<TResult> }
}

/**
 * Starts a client's data: resolves who the user is (token, JWT `sub`, or the anonymous identity), opens that
 * user's cache (falling back to memory where allowed) and reads it into memory.
 *
 * @throws CubbyError `INVALID_USER_ID` (a token that is not a JWT, without `userId`), `STORAGE_ERROR`, `CLOSED`.
 * @internal
 */
export async function loadReplica(load: LoadReplicaOptions): Promise<{ session: Session; replica: Replica }> {
  const { options, limits, storage, hooks } = load
  const session = await resolveSession(options.auth, {
    userId: options.userId,
    maxUserIdBytes: limits.maxUserIdBytes,
    identity: {
      load: () => storage.run((p) => p.loadIdentity()),
      save: (identity) => storage.run((p) => p.saveIdentity(identity)),
      create: () => createIdentity(load),
      ...identityLock(options.name ?? 'default', load.signal),
    },
  })
  load.opening?.(session.userId)
  const { cache, snapshot } = await storage.open(session.userId)
  if (load.signal.aborted) {
    await cache.close()
    throw load.signal.reason
  }
  const state = new LocalState(snapshot)
  // Frames stay well under the server's limit: escaping an encoded value in JSON can double its size.
  const maxFrameBytes = Math.floor(limits.maxMessageBytes / 2)
  return { session, replica: new Replica({ state, cache, hooks, clientId: randomClientId(), maxFrameBytes }) }
}

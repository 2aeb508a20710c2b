import { CubbyError, type CubbyLimits, assertValidUserId } from '@cubby/protocol'
import { asCubbyError } from './asCubbyError.js'
import type { CubbyOptions } from './CubbyOptions.js'
import { Replica, type ReplicaHooks } from './Replica.js'
import { canMakeDeviceIdentity, createDeviceIdentity } from './auth/deviceIdentity.js'
import { decodeJwtSub } from './auth/decodeJwtSub.js'
import { identitySession } from './auth/identitySession.js'
import { postToServer } from './auth/postToServer.js'
import type { CubbyCache, CubbyIdentity, SignInMarker } from './cache/CubbyCache.js'
import { openUserCache } from './cache/openUserCache.js'
import type { StorageGuard } from './cache/StorageGuard.js'
import type { LinkParts } from './sync/Link.js'
import { ServerClock } from './state/ServerClock.js'
import { LocalState } from './state/LocalState.js'
import { backoffDelay } from './sync/backoff.js'
import { SyncConnection } from './sync/SyncConnection.js'
import { tabPlatform } from './tabs/TabGroup.js'
import { TabUplink } from './tabs/TabUplink.js'
import { randomClientId } from './sync/randomClientId.js'

/** Who the client is, and how it gets tokens. */
export interface Session {
  userId: string
  /** A token for the next connection. */
  token: () => Promise<string>
  /** `token` gives a newer token as the last one nears its `exp`: a connection moves to it before then. */
  renews?: boolean
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
  /** Takes the uplinks' code, loaded with this module. */
  equip(parts: LinkParts): void
  /** Resolves when the client wants to be online (creating an identity on the server needs the network). */
  connectWanted(): Promise<void>
  /** Creating the identity finds the server unreachable. */
  offline(): void
  /** Takes a function that ends the current wait between attempts to create the identity. */
  waiting(wake: () => void): void
  /** The user is known, and their cache is about to be read (a memory cache is this tab's alone). */
  opening(userId: string, memoryCache: boolean): void
  /** Whether the app wants to be connected now. */
  readonly wanted: boolean
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

/** `promise`, or its rejection with the signal's reason once `signal` aborts; leaves no listener behind. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let stop!: () => void
  const aborted = new Promise<never>((_, reject) => {
    stop = () => reject(signal.reason as Error)
    signal.addEventListener('abort', stop, { once: true })
  })
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', stop))
}

/**
 * Asks the server for a new anonymous identity (`POST /v1/identities`).
 *
 * @throws CubbyError as {@link postToServer}; `BAD_MESSAGE` for an answer without an identity.
 */
async function createAnonymousIdentity(url: string, fetchFn: typeof fetch): Promise<CubbyIdentity> {
  const { userId, token } = await postToServer(url, '/v1/identities', fetchFn)
  if (typeof userId !== 'string' || typeof token !== 'string') throw new CubbyError('BAD_MESSAGE', `POST ${url}/v1/identities sent no identity`)
  return { userId, token }
}

/** Whether a stored record is an identity this client can use. */
const isIdentity = (stored: CubbyIdentity | undefined): stored is CubbyIdentity =>
  typeof stored?.userId === 'string' && ('token' in stored ? typeof stored.token === 'string' : typeof stored.privateKey === 'object')

/**
 * Makes a new anonymous identity: on the device, without the network, where WebCrypto can (secure contexts and
 * Node); else (plain http from another host than localhost has no `crypto.subtle`) with `POST /v1/identities`.
 */
async function createIdentity(load: LoadReplicaOptions): Promise<CubbyIdentity> {
  if (canMakeDeviceIdentity()) {
    try {
      return await createDeviceIdentity()
    } catch (cause) {
      load.hooks.error(asCubbyError(cause, 'INTERNAL', 'Making a device key failed: asking the server for an identity'))
    }
  }
  return requestIdentity(load)
}

/**
 * Asks the server for an anonymous identity, retrying with backoff while offline and waiting while disconnected. A
 * network failure is reported once per outage (`NETWORK`, status `offline`); other failures each time.
 */
async function requestIdentity({ options, hooks, signal, link }: LoadReplicaOptions): Promise<CubbyIdentity> {
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
 * Runs `step` holding a Web Lock per app name, where the platform has Web Locks: the steps that create the stored
 * identity, or finish a sign-in and delete it, run one tab at a time.
 */
async function underIdentityLock<T>(load: LoadReplicaOptions, step: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  if (typeof locks?.request !== 'function') return step()
  return await locks.request(`cubby-identity:${JSON.stringify(load.options.name ?? 'default')}`, { signal: load.signal }, step)
}

/**
 * Resolves the `auth` option into a session: a fixed token, a token function (called again for every
 * connection), or the anonymous identity (loaded, or created and saved: on the device, so that a first start
 * needs no network).
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
    // The app's first token may wait for its login; closing the client must not wait for it.
    let first: string | undefined = await untilAborted(Promise.resolve(auth()), load.signal)
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
    if (stored?.signingIn !== undefined) {
      // Its merge may have reached the server, which then deleted it: it must not write as that user again.
      const { account } = stored.signingIn
      throw new CubbyError('FORBIDDEN', `A sign-in of this device's anonymous user to ${JSON.stringify(account)} was interrupted: create the client with that account's auth to finish it`)
    }
    if (isIdentity(stored)) return stored
    const created = await createIdentity(load)
    await storage.run((p) => p.saveIdentity(created))
    return created
  }
  // Under the identity's lock, so that two new tabs opened together do not each create an identity, the later one
  // orphaning what the first one wrote.
  const identity = await underIdentityLock(load, loadOrCreate)
  return identitySession(identity, {
    url: options.url,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    // Not after closing: a sign-out deletes the identity, which a late refresh must not bring back.
    save: async (next) => {
      if (!load.signal.aborted) await storage.run((p) => p.saveIdentity(next))
    },
    report: (error) => load.hooks.error(error),
  })
}

type MarkedIdentity = CubbyIdentity & { signingIn: SignInMarker }

/**
 * The stored identity, when it carries a sign-in marker for the account of `session` and the app wants to connect
 * (finishing needs the server); `undefined` without a read for an anonymous client or one that stays offline. One
 * read, started before the account's cache opens so that a start without a marker waits for no extra round trip.
 */
async function markedFor(load: LoadReplicaOptions, session: Session): Promise<MarkedIdentity | undefined> {
  if (load.options.auth === undefined || !load.link.wanted) return undefined
  const identity = await load.storage.provider.loadIdentity().catch(() => undefined)
  return identity?.signingIn?.account === session.userId ? { ...identity, signingIn: identity.signingIn } : undefined
}

/**
 * Finishes an interrupted sign-in of this device's anonymous user into the account of `session`, when `marked`
 * found a marker for it (the code that finishes it loads only then).
 *
 * @returns Whether it wrote into the account's cache.
 */
async function finishSwitch(load: LoadReplicaOptions, session: Session, cache: CubbyCache, marked: Promise<MarkedIdentity | undefined>): Promise<boolean> {
  if ((await marked) === undefined) return false
  // Again under the lock: another tab of the account may have finished it meanwhile.
  return underIdentityLock(load, async () => {
    const identity = await markedFor(load, session)
    if (identity === undefined) return false
    const { finishSignIn } = await import('./account/finishSignIn.js')
    return finishSignIn(load, { session, cache, identity })
  }).catch((error: unknown) => {
    // The client closed while it waited for the lock, or the code did not load: the next start tries again.
    if (!load.signal.aborted) load.hooks.error(asCubbyError(error, 'INTERNAL', `Finishing the sign-in failed: ${String(error)}`))
    return false
  })
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
  load.link.equip({ SyncConnection, TabUplink, tabPlatform })
  const session = await resolveSession(load)
  load.link.opening(session.userId, storage.provider.kind === 'memory')
  const marked = markedFor(load, session)
  const opened = await openUserCache(storage, session.userId)
  const { cache } = opened
  const snapshot = (await finishSwitch(load, session, cache, marked)) ? await cache.load() : opened.snapshot
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

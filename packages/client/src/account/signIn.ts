import { CubbyError, MERGE_PREFERENCES, type MergeAnswer, type MergePreference, assertValidUserId } from '@cubby/protocol'
import { asCubbyError } from '../asCubbyError.js'
import type { Cubby } from '../Cubby.js'
import type { CubbyOptions } from '../CubbyOptions.js'
import type { Session } from '../loadReplica.js'
import { Replica } from '../Replica.js'
import { LocalState } from '../state/LocalState.js'
import { ServerClock } from '../state/ServerClock.js'
import { Link } from '../sync/Link.js'
import { SyncConnection } from '../sync/SyncConnection.js'
import { TabUplink } from '../tabs/TabUplink.js'
import { randomClientId } from '../sync/randomClientId.js'
import { tabPlatform } from '../tabs/TabGroup.js'
import { openUserCache } from '../cache/openUserCache.js'
import { decodeJwtSub } from '../auth/decodeJwtSub.js'
import { announceToTabs } from './announceToTabs.js'
import { carryOver } from './carryOver.js'
import type { ClientParts, ClientSeat } from './ClientSeat.js'
import { requestMerge } from './requestMerge.js'
import { markSigningIn } from './signInMarker.js'
import type { SignInOptions, SignInResult } from './SignInOptions.js'

type Auth = NonNullable<CubbyOptions['auth']>

/** How long a sign-in waits for the acks of writes already sent before it stops syncing as the anonymous user. */
const SETTLE_MS = 3_000

function checkArguments(auth: unknown, { prefer, merge }: SignInOptions): void {
  if (typeof auth !== 'string' && typeof auth !== 'function') throw new TypeError('signIn: auth must be a token or a function returning one')
  if (prefer !== undefined && !(MERGE_PREFERENCES as readonly unknown[]).includes(prefer)) throw new TypeError('signIn: prefer must be "account" or "anonymous"')
  if (merge !== undefined && typeof merge !== 'function') throw new TypeError('signIn: merge must be a function')
}

/** The account's session: the token the merge used for the first connection, then the app's function again each time. */
function accountSession(userId: string, auth: Auth, first: string): Session {
  if (typeof auth === 'string') return { userId, token: () => Promise.resolve(auth) }
  let unused: string | undefined = first
  return {
    userId,
    token: async () => {
      const token = unused ?? (await auth())
      unused = undefined
      return token
    },
  }
}

/** Waits (a bounded time) for the acks of writes that are on their way, so that few writes are left in doubt. */
async function settleInFlight(cubby: Cubby, replica: Replica): Promise<void> {
  if (cubby.status !== 'online' || replica.pendingCount === 0) return
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MS)))
  await Promise.race([replica.synced().catch(() => {}), late]).finally(() => clearTimeout(timer))
}

interface Merged {
  answer: MergeAnswer
  prefer: MergePreference
  auth: Auth
  token: string
  /** Whether the app wanted to be connected before the sign-in. */
  wanted: boolean
}

/**
 * Moves this device's anonymous state into the account's cache after the server merged (values the merge kept,
 * pending writes under their own client ids and mids), and makes the account's parts: its replica (a new client id
 * for new writes) and link.
 */
async function moveToAccount(seat: ClientSeat, from: ClientParts, merged: Merged): Promise<ClientParts> {
  const { answer, prefer, auth, token, wanted } = merged
  const old = from.replica
  await old.flushed()
  // Another tab may have deleted the anonymous database already (it heard `user-deleted`): memory has the outbox.
  const stored = await old.cache.load().catch(() => ({ entries: [], outbox: [], cursor: 0 }))
  const write = carryOver(stored, { all: old.durableWrites(), unacknowledged: old.durableWrites(true) }, { answer, prefer, now: old.clock.now() })
  const options: CubbyOptions = { ...from.options, auth, userId: answer.account, connect: wanted }
  const link = new Link(options, seat.hooks)
  // The sync code is loaded by now (this client loaded its replica): the account's link gets the same parts.
  link.equip({ SyncConnection, TabUplink, tabPlatform })
  try {
    link.opening(answer.account, seat.storage.provider.kind === 'memory')
    const { cache } = await openUserCache(seat.storage, answer.account)
    await cache.write(write)
    const snapshot = await cache.load()
    const clock = new ServerClock(options.now, snapshot.clockOffset ?? old.clock.offset)
    const state = new LocalState(snapshot, clock.now)
    const maxFrameBytes = Math.floor(seat.limits.maxMessageBytes / 2)
    const replica = new Replica({ state, cache, hooks: seat.hooks, clock, clientId: randomClientId(), maxFrameBytes })
    return { options, session: accountSession(answer.account, auth, token), replica, link }
  } catch (error) {
    link.close()
    throw error
  }
}

/** The encodings of the visible values of a replica, to tell which keys a switch changed. */
function viewOf(replica: Replica): Map<string, string> {
  return new Map(replica.list().map((key) => [key, replica.get(key)!.encoded]))
}

/**
 * Ends the anonymous user here: its link, its database (the server deleted the user), then its stored identity
 * with the sign-in marker (last: an interruption before leaves the marker, and the next start finishes).
 */
async function dropAnonymous(seat: ClientSeat, from: ClientParts): Promise<void> {
  from.link.close()
  await from.replica.close(new CubbyError('CLOSED', 'Signed in: the anonymous user is gone'), true).catch(() => {})
  await markSigningIn(seat.storage.provider, from.session.userId, 'forget').catch(() => {})
  announceToTabs(from.options.name ?? 'default', from.session.userId)
}

/**
 * Asks the server to merge, with the sign-in marker stored around the request: written before it (so that a
 * client of the account that starts after an interruption finishes the switch), removed again when the server
 * refused or could not be reached (nothing changed: the anonymous user goes on).
 *
 * @throws CubbyError `STORAGE_ERROR` when the marker cannot be written (before asking), or as {@link requestMerge}.
 */
async function mergeMarked(seat: ClientSeat, from: ClientParts, request: { token: string; prefer: MergePreference }): Promise<MergeAnswer> {
  const { token, prefer } = request
  const proof = await from.session.token()
  const account = decodeJwtSub(token)
  const anonymous = from.session.userId
  const provider = seat.storage.provider
  if (account !== undefined) {
    await markSigningIn(provider, anonymous, { signingIn: { account, prefer } }).catch((cause: unknown) => {
      throw new CubbyError('STORAGE_ERROR', `Storing the sign-in failed, nothing changed: ${String(cause)}`, { cause })
    })
  }
  try {
    const fetchFn = from.options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    const answer = await requestMerge(from.options.url, { accountToken: token, proof, prefer, fetch: fetchFn })
    assertValidUserId(answer.account, seat.limits.maxUserIdBytes)
    return answer
  } catch (error) {
    if (account !== undefined) await markSigningIn(provider, anonymous, { signingIn: undefined }).catch(() => {})
    throw error
  }
}

/** Resolves once the client is online (its catch-up done); rejects with `CLOSED` when it closes first. */
function online(cubby: Cubby, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const controller = new AbortController()
    const done = (error?: CubbyError): void => {
      controller.abort()
      if (error === undefined) resolve()
      else reject(error)
    }
    if (cubby.status === 'online') return done()
    const closed = (): void => done(asCubbyError(signal.reason, 'CLOSED'))
    if (signal.aborted) return closed()
    cubby.addEventListener('status', (e) => e.detail.status === 'online' && done(), { signal: controller.signal })
    signal.addEventListener('abort', closed, { signal: controller.signal })
  })
}

/** Runs the app's merge function on each conflicting key once the account's values are here, and stores the results. */
async function runMerge(cubby: Cubby, seat: ClientSeat, conflicts: ReadonlyMap<string, unknown>, merge: NonNullable<SignInOptions['merge']>): Promise<void> {
  if (conflicts.size === 0) return
  await online(cubby, seat.signal)
  const replica = await seat.loaded()
  for (const [key, anonymousValue] of conflicts) {
    const value = merge(key, anonymousValue, replica.confirmed(key).entry?.value)
    await (value === undefined ? cubby.delete(key) : cubby.store(key, value))
  }
}

/** The sign-in under way of each client: a second call waits for it (and is then refused, the client is no longer anonymous). */
const running = new WeakMap<Cubby, Promise<unknown>>()

/**
 * Signs an anonymous client in to an account (see `Cubby.signIn`): merges on the server, then moves this device's
 * state into the account's cache and switches the client to it. One at a time per client.
 *
 * @internal
 */
export function signIn(cubby: Cubby, seat: ClientSeat, auth: Auth, options: SignInOptions): Promise<SignInResult> {
  checkArguments(auth, options)
  const next = (running.get(cubby) ?? Promise.resolve()).catch(() => {}).then(() => signInNow(cubby, seat, auth, options))
  running.set(cubby, next)
  return next
}

async function signInNow(cubby: Cubby, seat: ClientSeat, auth: Auth, options: SignInOptions): Promise<SignInResult> {
  const replica = await seat.loaded()
  const from = seat.parts()
  if (from.options.auth !== undefined) throw new CubbyError('FORBIDDEN', 'signIn moves an anonymous user into an account: this client has `auth` already')
  const prefer = options.merge === undefined ? (options.prefer ?? 'account') : 'account'
  const token = typeof auth === 'function' ? await auth() : auth
  if (typeof token !== 'string' || token === '') throw new TypeError('signIn: auth gave no token')
  await settleInFlight(cubby, replica)
  const wanted = from.link.wanted
  from.link.disconnect()
  let answer: MergeAnswer
  try {
    answer = await mergeMarked(seat, from, { token, prefer })
  } catch (error) {
    if (wanted && !seat.signal.aborted) from.link.connect()
    throw error
  }
  const before = viewOf(replica)
  const conflicts = new Map(answer.conflicts.map((key) => [key, replica.get(key)?.value]))
  // From here on the anonymous user is gone on the server: its state moves to the account even if the client closes.
  let to: ClientParts
  try {
    to = await seat.replace(moveToAccount(seat, from, { answer, prefer, auth, token, wanted }))
  } catch (error) {
    // Not back to the anonymous user, whom the server deleted: the client closes, and the account's next start
    // finishes the switch from the anonymous database and the marker.
    await cubby.close()
    throw asCubbyError(error, 'STORAGE_ERROR', `Signed in, but moving this device's data to the account failed: load the client with its auth to finish (${String(error)})`)
  }
  if (seat.signal.aborted) {
    to.link.close()
    await to.replica.close(asCubbyError(seat.signal.reason, 'CLOSED')).catch(() => {})
    await dropAnonymous(seat, from)
    throw asCubbyError(seat.signal.reason, 'CLOSED')
  }
  const after = viewOf(to.replica)
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key))
  seat.hooks.change(changed.map((key) => (after.has(key) ? { key, value: to.replica.get(key)!.value } : { key, deleted: true })), 'remote')
  await dropAnonymous(seat, from)
  to.link.attach(to.session, to.replica)
  // A tab of the account that leads already learns of the carried writes, as of any other tab's.
  to.link.durable(to.replica.durableWrites(true))
  if (options.merge) await runMerge(cubby, seat, conflicts, options.merge)
  return { account: answer.account, written: answer.written, conflicts: answer.conflicts }
}

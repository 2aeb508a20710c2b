import { asCubbyError } from '../asCubbyError.js'
import { identitySession } from '../auth/identitySession.js'
import type { CacheSnapshot, CubbyCache, CubbyIdentity, SignInMarker } from '../cache/CubbyCache.js'
import type { LoadReplicaOptions, Session } from '../loadReplica.js'
import { announceToTabs } from './announceToTabs.js'
import { type MergeAgain, recoveredWrite } from './recoveredWrite.js'
import { isProofRefused, requestMerge } from './requestMerge.js'
import { markSigningIn } from './signInMarker.js'

/** What {@link finishSignIn} works on: the account's session and open cache, the anonymous identity with its marker. */
export interface FinishSignIn {
  session: Session
  cache: CubbyCache
  identity: CubbyIdentity & { signingIn: SignInMarker }
}

/**
 * Asks the server to merge the anonymous user into the account again, proven by its stored identity: `gone` when
 * it refuses the proof (the user was deleted, by the first merge). Any other failure (`NETWORK`, a refused account
 * token) is thrown: the switch stays unfinished.
 */
async function mergeAgain({ options, storage }: LoadReplicaOptions, { session, identity }: FinishSignIn): Promise<MergeAgain> {
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const { signingIn } = identity
  const anonymous = identitySession(identity, {
    url: options.url,
    fetch: fetchFn,
    // A refreshed token keeps the marker: the switch is not done yet.
    save: async (next) => void (await markSigningIn(storage.provider, next.userId, { signingIn, identity: next })),
    report: () => {},
  })
  try {
    const proof = await anonymous.token()
    return await requestMerge(options.url, { accountToken: await session.token(), proof, prefer: signingIn.prefer, account: signingIn.account, fetch: fetchFn })
  } catch (error) {
    if (isProofRefused(error)) return 'gone'
    throw error
  }
}

/**
 * Finishes a sign-in that was interrupted on this device after the marker was written (the page closed, or the
 * cache write of the switch failed): merges again (see {@link recoveredWrite} for what the answer decides), writes
 * the anonymous user's pending writes (and the values this merge kept) into the account's cache, then deletes the
 * anonymous database and the stored identity with its marker, in that order, so that an interruption in between
 * is finished again at the next start, and never loses or doubles a write (the server acknowledges a write it has
 * under the same client id and mid without applying it again).
 *
 * Runs when a client of the marker's account loads and wants to connect; does nothing for another account. A
 * failure before the account's cache is written (`NETWORK`, a refused account token, storage) is reported as an
 * `error` event and leaves everything as it was, for the next start.
 *
 * @returns Whether it wrote into the account's cache (the caller reads it again).
 * @internal
 */
export async function finishSignIn(load: LoadReplicaOptions, run: FinishSignIn): Promise<boolean> {
  const { storage, options, hooks } = load
  const anonymousId = run.identity.userId
  let anonymous: CubbyCache | undefined
  try {
    anonymous = await storage.provider.open(anonymousId)
    const snapshot: CacheSnapshot = await anonymous.load()
    const merged = await mergeAgain(load, run)
    await run.cache.write(recoveredWrite(snapshot, merged, { prefer: run.identity.signingIn.prefer, now: (options.now ?? Date.now)() }))
  } catch (error) {
    await anonymous?.close().catch(() => {})
    hooks.error(asCubbyError(error, 'STORAGE_ERROR', `Finishing the sign-in to ${run.identity.signingIn.account} failed: ${String(error)}`))
    return false
  }
  await anonymous.destroy().catch((error: unknown) => hooks.error(asCubbyError(error, 'STORAGE_ERROR')))
  await markSigningIn(storage.provider, anonymousId, 'forget').catch((error: unknown) => hooks.error(asCubbyError(error, 'STORAGE_ERROR')))
  announceToTabs(options.name ?? 'default', anonymousId)
  return true
}

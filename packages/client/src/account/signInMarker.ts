import type { CubbyCacheProvider, CubbyIdentity, SignInMarker } from '../cache/CubbyCache.js'

/**
 * A change of the stored anonymous identity during a sign-in: its marker set or removed (with a refreshed
 * `identity` to store, if any), or the identity deleted with the marker (`forget`: the switch is complete).
 */
export type MarkerChange = { signingIn: SignInMarker | undefined; identity?: CubbyIdentity } | 'forget'

/**
 * Changes the stored identity of `anonymous` (see {@link MarkerChange}). Leaves a stored identity of another user
 * alone, and stores nothing when there is none (a client whose identity is not kept).
 *
 * @returns Whether the stored identity was the anonymous user's (so the record is as asked).
 * @throws what the provider throws.
 * @internal
 */
export async function markSigningIn(provider: CubbyCacheProvider, anonymous: string, change: MarkerChange): Promise<boolean> {
  const stored = await provider.loadIdentity()
  if (stored?.userId !== anonymous) return false
  if (change === 'forget') {
    await provider.saveIdentity(undefined)
    return true
  }
  const { signingIn: _, ...record } = change.identity ?? stored
  await provider.saveIdentity(change.signingIn === undefined ? record : { ...record, signingIn: change.signingIn })
  return true
}

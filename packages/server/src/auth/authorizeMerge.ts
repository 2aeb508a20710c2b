import type { MergeCredential, MergeRefusalReason, UnauthorizedReason } from '@cubby/protocol'
import { isAnonymousUser } from './anonymousUsers.js'
import type { TokenAuth, TokenRequest } from './TokenAuth.js'

/** What {@link authorizeMerge} found: both users, or why the merge is refused. @internal */
export type MergeAuthorization =
  | { account: string; anonymous: string; refused?: undefined }
  | { refused: 'UNAUTHORIZED'; reason: UnauthorizedReason; credential: MergeCredential }
  | { refused: 'FORBIDDEN'; reason: MergeRefusalReason }

/** The two credentials of a merge request, as they arrived (`undefined`: not sent). @internal */
export interface MergeCredentials {
  /** The `Authorization: Bearer` token: the account's. */
  accountToken: string | undefined
  /** The body's `proof`: the anonymous identity's own token. */
  proof: string | undefined
  /** The account the body names, if any. */
  account: string | undefined
}

/**
 * Authorises a merge by both identities: the account token and the anonymous proof must each verify as a token
 * this server accepts on its sync socket (same secrets, `aud` rules for device tokens, expiry and revocation), the
 * account must not be anonymous, the proof's user must be, and they must differ. A body that names an account must
 * name the token's user: nobody but the account itself can merge into it.
 * @internal
 */
export async function authorizeMerge(auth: TokenAuth, { accountToken, proof, account }: MergeCredentials, request: TokenRequest): Promise<MergeAuthorization> {
  if (accountToken === undefined) return { refused: 'UNAUTHORIZED', reason: 'missing', credential: 'account' }
  const into = await auth.check(accountToken, request)
  if (into.userId === undefined) return { refused: 'UNAUTHORIZED', reason: into.reason, credential: 'account' }
  if (isAnonymousUser(into.userId)) return { refused: 'FORBIDDEN', reason: 'not-an-account' }
  if (account !== undefined && account !== into.userId) return { refused: 'FORBIDDEN', reason: 'account-mismatch' }
  if (proof === undefined) return { refused: 'UNAUTHORIZED', reason: 'missing', credential: 'anonymous' }
  const from = await auth.check(proof, request)
  if (from.userId === undefined) return { refused: 'UNAUTHORIZED', reason: from.reason, credential: 'anonymous' }
  if (!isAnonymousUser(from.userId)) return { refused: 'FORBIDDEN', reason: 'not-anonymous' }
  // Unreachable while the account is not anonymous; kept so that the rule does not hang on that order.
  if (from.userId === into.userId) return { refused: 'FORBIDDEN', reason: 'same-user' }
  return { account: into.userId, anonymous: from.userId }
}

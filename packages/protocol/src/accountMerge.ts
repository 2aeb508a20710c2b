/**
 * The account merge: an anonymous user signs in with the app's own login, and the server moves the anonymous
 * user's data into the account in one request authorised by both identities (see docs/protocol.md, "Account merge").
 * @module
 */

/** The path of the merge request: `POST` with the account's token as `Authorization: Bearer …`. */
export const MERGE_PATH = '/v1/account/merge'

/**
 * Which value a key keeps when both users have a live value for it:
 * - `account`: the account's (the default; a merge function on the device then uploads its own result as
 *   ordinary writes after the merge, reading the account's values of the {@link MergeAnswer.conflicts});
 * - `anonymous`: the anonymous user's.
 */
export const MERGE_PREFERENCES = ['account', 'anonymous'] as const

/** One of {@link MERGE_PREFERENCES}. */
export type MergePreference = (typeof MERGE_PREFERENCES)[number]

/** The JSON body of the merge request. */
export interface MergeRequest {
  /**
   * Proof of the anonymous identity: its own currently valid token, either the token `POST /v1/identities` issued
   * or a device token signed by the device's key (same `aud` rules as on the sync socket).
   */
  proof: string
  /** Which value a conflicting key keeps. @default 'account' */
  prefer?: MergePreference
  /**
   * The account the caller means to merge into (the `sub` of its token); refused (`FORBIDDEN`, `account-mismatch`)
   * when it is not the token's user. @default the token's user
   */
  account?: string
}

/** The answer (`200`) to a merge. */
export interface MergeAnswer {
  /** The account's user id (the token's `sub`). */
  account: string
  /** The anonymous user that was merged, and deleted. */
  anonymous: string
  /** The account's latest revision after the merge: each key the merge wrote got one revision up to it. */
  head: number
  /** How many keys the merge wrote into the account. */
  written: number
  /**
   * Keys both users had a live value for, in key order: they kept the account's value under `prefer: 'account'`
   * and took the anonymous one under `prefer: 'anonymous'`. A device-side merge function reads these.
   */
  conflicts: string[]
  /**
   * How many exactly-once records (client id → last applied mid) moved to the account: a write of the anonymous
   * device re-sent under the account with the same client id and mid is acknowledged, not applied again.
   */
  clients: number
}

/**
 * Why a merge is refused with `FORBIDDEN` (sent as `reason`; tokens that do not verify are `UNAUTHORIZED` with an
 * `UnauthorizedReason` and `credential` saying which one):
 * - `not-an-account`: the `Authorization` token is an anonymous identity's, not an account's;
 * - `not-anonymous`: the proof's user is not an anonymous identity;
 * - `same-user`: the proof and the account are the same user;
 * - `account-mismatch`: the body names another account than the token's user.
 */
export const MERGE_REFUSAL_REASONS = ['not-an-account', 'not-anonymous', 'same-user', 'account-mismatch'] as const

/** One of {@link MERGE_REFUSAL_REASONS}. */
export type MergeRefusalReason = (typeof MERGE_REFUSAL_REASONS)[number]

/** Which credential of a merge request an `UNAUTHORIZED` answer is about. */
export type MergeCredential = 'account' | 'anonymous'

import type { Change, MergePreference } from '@cubby/protocol'

/** Options of {@link CubbyStorage.mergeUser}. */
export interface MergeUserOptions {
  /** Which value a key keeps when both users have a live value for it. */
  prefer: MergePreference
  /**
   * When the request was authorised (milliseconds since the epoch, taken before the tokens' checks): if either user
   * was deleted at or after it, the merge is refused (`UNAUTHORIZED`) and nothing changes.
   * @default undefined (not checked)
   */
  authorizedAt?: number
}

/** What one {@link CubbyStorage.mergeUser} did. */
export interface MergeUserResult {
  /** The changes made to the account, in increasing revision order (consecutive revs after its old head). */
  changes: Change[]
  /** The account's latest revision after the merge. */
  head: number
  /** Keys both users had a live value for, in key order. */
  conflicts: string[]
  /** Exactly-once records moved from the anonymous user to the account. */
  clients: number
}

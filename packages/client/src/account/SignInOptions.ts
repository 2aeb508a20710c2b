import type { MergePreference } from '@cubby/protocol'

/**
 * Options of `cubby.signIn`: which value a key keeps when both the anonymous user and the account have one.
 *
 * @example
 * ```ts
 * await cubby.signIn(token, { merge: (key, mine, theirs) => (key === 'cart' ? [...(theirs ?? []), ...(mine ?? [])] : theirs) })
 * ```
 */
export interface SignInOptions<TSchema extends Record<string, unknown> = Record<string, unknown>> {
  /**
   * On a key both have a value for: `account` keeps the account's, `anonymous` takes this device's. Ignored with
   * `merge`, which merges with `account` first.
   * @default 'account'
   */
  prefer?: MergePreference
  /**
   * Computes the value of a key both have, on this device, once the account's values arrived: its result is stored
   * as an ordinary write (`undefined` deletes the key). Not atomic with the merge: the account's value shows in
   * between, and another device may write the key meanwhile.
   */
  merge?: <TKey extends keyof TSchema & string>(key: TKey, anonymousValue: TSchema[TKey] | undefined, accountValue: TSchema[TKey] | undefined) => TSchema[TKey] | undefined
}

/** What `cubby.signIn` resolves with. */
export interface SignInResult {
  /** The account's user id: the client's `userId` from now on. */
  account: string
  /** How many keys of the anonymous user the server wrote into the account. */
  written: number
  /** Keys both had a value for, in key order: they got the value of `prefer`, or of `merge`. */
  conflicts: string[]
}

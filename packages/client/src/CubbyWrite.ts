import type { ExpiryInput, WriteCondition } from '@cubby/protocol'

/**
 * The promise of a conditional write, `update` or `batch`: it resolves once the write is durable on this device
 * (like `store`), and its `settled` resolves once the server accepted it, or rejects with the server's verdict,
 * e.g. `CONFLICT` (the write is then rolled back to the server's value, and an `error` event reports it too, so
 * nobody has to await `settled`).
 *
 * An `update`'s function lives in the page that called it and does not survive a reload: a write of an `update`
 * still pending when the page reloads goes to the server as stored (with its condition), and a conflict found
 * then is reported as `CONFLICT` (rolled back, `error` event) instead of being retried with the function. A
 * `settled` of a page that closed is gone with it; the write itself is not.
 *
 * @example
 * ```ts
 * const entry = await cubby.getEntry('seat')
 * await cubby.store('seat', 'alice', { ifVersion: entry.version }).settled // throws CubbyError CONFLICT if taken
 * ```
 */
export interface CubbyWrite extends Promise<void> {
  /** Resolves once the server accepted every write; rejects with its `CubbyError` (`CONFLICT`, ...), or `CLOSED`. */
  readonly settled: Promise<void>
}

/** The condition of a `store` or `delete`: checked by the server when the write arrives (also after being offline). */
export interface WriteConditionOptions {
  /**
   * Write only if the server's version of the key is still this one (from {@link CubbyEntryInfo.version}); `0`
   * means the key has no value.
   * @default undefined (no condition)
   */
  ifVersion?: number
  /** Write only if the key has no value on the server. @default false */
  ifAbsent?: boolean
}

/** Options of `update`. */
export interface UpdateOptions {
  /**
   * How many times a `CONFLICT` runs the function again on the server's value before the update fails. Only while
   * the page that called `update` lives: after a reload a conflict is reported as `CONFLICT`, not retried.
   * @default 10
   */
  retries?: number
}

/** A key's value as this device holds it, with the server's version it builds on. */
export interface CubbyEntryInfo<TValue> {
  /** The visible value (with this device's pending writes), or `undefined`. */
  readonly value: TValue | undefined
  /** The server's version of the key as last seen (its revision); 0 when the key has no value there. */
  readonly version: number
  /** A write of the key has not been acknowledged by the server yet. */
  readonly pending: boolean
}

/** The writes of one `batch`: applied all or none, on this device and on the server. */
export interface CubbyTransaction<TSchema> {
  /** Adds a store to the batch (with a condition, an expiry, or both). */
  store<TKey extends keyof TSchema & string>(key: TKey, value: TSchema[TKey], options?: WriteConditionOptions & ExpiryInput): void
  /** Adds a delete to the batch. */
  delete(key: keyof TSchema & string, options?: WriteConditionOptions): void
}

/**
 * The wire condition of write options; `undefined` for none.
 *
 * @throws TypeError for an `ifVersion` that is not a non-negative integer, or both options at once.
 * @internal
 */
export function conditionOf(options: WriteConditionOptions | undefined): WriteCondition | undefined {
  if (options === undefined) return undefined
  const { ifVersion, ifAbsent = false } = options
  if (ifVersion !== undefined && (!Number.isSafeInteger(ifVersion) || ifVersion < 0)) throw new TypeError('ifVersion must be a non-negative integer')
  if (ifVersion !== undefined && ifAbsent) throw new TypeError('Give ifVersion or ifAbsent, not both')
  if (ifAbsent || ifVersion === 0) return { absent: true }
  return ifVersion === undefined ? undefined : { rev: ifVersion }
}

/** Makes a {@link CubbyWrite} of the two promises; `settled` is marked handled (its failure is an `error` event too). @internal */
export function cubbyWrite(durable: Promise<void>, settled: Promise<void>): CubbyWrite {
  settled.catch(() => {})
  return Object.assign(durable, { settled })
}

/** A rejected {@link CubbyWrite}, for a write refused before it was made. @internal */
export const refusedWrite = (error: unknown): CubbyWrite => cubbyWrite(Promise.reject(error), Promise.reject(error))

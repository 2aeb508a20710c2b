import { utf8Length } from '@cubby/protocol'

/** How much one user may store. */
export interface UserQuota {
  /** Most bytes: every key and encoded value in UTF-8, plus {@link RECORD_OVERHEAD_BYTES} per key (a deleted key keeps counting its key and overhead until a clear; a delete of a key without a live value stores and counts nothing). */
  maxBytes: number
  /** Most live keys (deleted ones do not count). */
  maxKeys: number
}

/** The default quota: 100 MiB and 100,000 keys per user. */
export const DEFAULT_QUOTA: Readonly<UserQuota> = Object.freeze({ maxBytes: 100 * 1024 * 1024, maxKeys: 100_000 })

/**
 * What each key's record costs beyond its key and value: the record, its log entry and their LevelDB keys. A
 * tombstone keeps costing it, so a user's tombstones are bounded by the quota too (only a key that had a value
 * leaves one).
 */
export const RECORD_OVERHEAD_BYTES = 64

/** The bytes a key's record counts against the quota (`value` undefined for a tombstone). */
export const recordBytes = (key: string, value: string | undefined): number =>
  recordBytesOf(key, value === undefined ? undefined : utf8Length(value))

/** {@link recordBytes} from the value's UTF-8 length (`undefined` for a tombstone). */
export const recordBytesOf = (key: string, valueBytes: number | undefined): number =>
  utf8Length(key) + (valueBytes ?? 0) + RECORD_OVERHEAD_BYTES

/** What a user holds, as counted against the quota. */
export interface UserUsage {
  /** Live keys. */
  keys: number
  /** Bytes of every record, tombstones included. */
  bytes: number
}

/** The quota with defaults filled in. @throws TypeError for a field that is not a positive integer. */
export function resolveQuota(quota: Partial<UserQuota> | undefined): UserQuota {
  const resolved = { ...DEFAULT_QUOTA, ...quota }
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`quota.${name} must be a positive integer`)
  }
  return resolved
}

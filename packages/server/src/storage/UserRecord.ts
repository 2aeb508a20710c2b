/**
 * One line of a user's export (NDJSON): first the user's header, then one line per key that has a record, live
 * or deleted, then one line per device's exactly-once record (the last mid of that client id the server applied,
 * and its rev), so that a write re-sent after a move (its ack was lost) is recognised and not applied twice.
 * Values are Cubby encodings exactly as stored (see `encodeValue`), so every type survives the trip.
 *
 * @example
 * ```
 * {"type":"user","v":1,"userId":"alice","head":42,"clearRev":7}
 * {"type":"value","key":"theme","rev":40,"value":"\"dark\""}
 * {"type":"value","key":"seen","rev":41,"value":"~[[\"Set\",1],\"a\"]"}
 * {"type":"value","key":"session","rev":41,"value":"1","expiresAt":1767225600000}
 * {"type":"deleted","key":"draft","rev":42}
 * {"type":"client","clientId":"3f1c…","mid":17,"rev":42}
 * ```
 */
export type UserRecord =
  | { type: 'user'; v: 1; userId: string; head: number; clearRev: number }
  | { type: 'value'; key: string; rev: number; value: string; /** When it expires (ms since the epoch); none: never. */ expiresAt?: number }
  | { type: 'deleted'; key: string; rev: number }
  | { type: 'client'; clientId: string; mid: number; rev: number }

/** One user as {@link CubbyStorageAdmin.users} lists them. */
export interface UserSummary {
  userId: string
  /** The user's latest revision. */
  head: number
  /** Live keys. */
  keys: number
  /** Bytes counted against the quota. */
  bytes: number
}

/** What {@link CubbyStorageAdmin.importUser} wrote. */
export interface ImportResult {
  head: number
  /** Records written (live and deleted keys). */
  records: number
}

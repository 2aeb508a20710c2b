import { decodeValue } from '@cubby/protocol'
import type { ViewEntry } from './LocalState.js'

/**
 * A confirmed record in memory: the server's value at `rev`, and when it expires (server time). A pending store's
 * entry has this shape too (`rev` 0 until acknowledged), so that its ack makes it the confirmed record in place:
 * the view and `confirmed` then share one object per key, not one each.
 *
 * @internal
 */
export type Confirmed = ViewEntry & { rev: number; expiresAt: number | undefined }

/**
 * A confirmed record (or a pending store's entry, at `rev` 0) decoded from `encoded`.
 *
 * @internal
 */
export const confirmedEntry = (encoded: string, rev: number, expiresAt: number | undefined): Confirmed =>
  ({ encoded, value: decodeValue(encoded), rev, expiresAt })

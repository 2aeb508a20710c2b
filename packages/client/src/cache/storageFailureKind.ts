import { isCubbyError } from '@cubby/protocol'

/**
 * The kinds of storage failure the client tells apart (and counts, see {@link CubbyStorageStats}):
 * - `closed`: the connection was closed or lost under the client (`InvalidStateError`, Safari's "Connection to
 *   Indexed Database server lost", Dexie's `DatabaseClosedError`): reopened and retried;
 * - `unknown`: the backing store failed (`UnknownError`, an aborted transaction, an internal assertion): retried;
 * - `quota`: `QuotaExceededError`;
 * - `evicted`: the database was deleted under the client (found by its marker);
 * - `other`: the write itself cannot be stored (`DataCloneError`, ...): rejected, nothing retried.
 */
export type StorageFailureKind = 'closed' | 'unknown' | 'quota' | 'evicted' | 'other'

const CLOSED_NAMES = new Set(['InvalidStateError', 'DatabaseClosedError', 'TransactionInactiveError'])
const UNKNOWN_NAMES = new Set(['UnknownError', 'AbortError', 'TimeoutError', 'OpenFailedError'])

/**
 * Tells which kind of failure an IndexedDB or Dexie error is. Dexie wraps the browser's error in `inner`.
 *
 * @internal
 */
export function storageFailureKind(error: unknown): StorageFailureKind {
  if (isCubbyError(error, 'CACHE_EVICTED')) return 'evicted'
  const outer = error as { name?: unknown; message?: unknown; inner?: { name?: unknown; message?: unknown } } | null
  const names = [outer?.name, outer?.inner?.name]
  const text = (v: unknown): string => (typeof v === 'string' ? v : '')
  const message = `${text(outer?.message)} ${text(outer?.inner?.message)}`
  if (names.includes('QuotaExceededError') || /quota/i.test(message)) return 'quota'
  if (names.some((n) => CLOSED_NAMES.has(n as string)) || /connection .*(lost|closed)|database .*(closed|closing)/i.test(message)) return 'closed'
  if (names.some((n) => UNKNOWN_NAMES.has(n as string)) || /internal assertion|backing store/i.test(message)) return 'unknown'
  return 'other'
}

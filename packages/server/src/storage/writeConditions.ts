import type { Mutation, WireError, WriteCondition } from '@cubby/protocol'

/**
 * How many conflicted mids a client's exactly-once record remembers (the newest), so that a retried write that
 * was rejected with `CONFLICT` gets `CONFLICT` again instead of a success. A client retries only what it has not
 * seen answered, which is far fewer than this unless it sends thousands of conditional writes that all conflict
 * without reading one answer.
 * @internal
 */
const MAX_REMEMBERED_CONFLICTS = 256

/** A key's live version: the revision of its live value, 0 when it has none. @internal */
export type KeyVersion = number

/**
 * Checks a write's condition against the key's live version.
 *
 * @returns `undefined` when the write may go ahead (also when it has no condition), else the `CONFLICT` error.
 * @internal
 */
export function checkCondition(m: Mutation, version: KeyVersion): WireError | undefined {
  const condition: WriteCondition | undefined = m.op === 'clear' ? undefined : m.if
  if (condition === undefined) return undefined
  if ('absent' in condition ? version === 0 : version === condition.rev) return undefined
  const wanted = 'absent' in condition ? 'to be absent' : `at version ${condition.rev}`
  return conflictError(`${JSON.stringify(m.op === 'clear' ? '' : m.key)} was expected ${wanted}, but is at version ${version}`, version)
}

/** A `CONFLICT` error carrying the key's version. @internal */
export const conflictError = (message: string, version: KeyVersion): WireError => ({ code: 'CONFLICT', message, rev: version })

/** The conflicted mids kept after adding `mid`: the newest {@link MAX_REMEMBERED_CONFLICTS}. @internal */
export const rememberConflict = (conflicts: readonly number[] | undefined, mid: number): number[] =>
  [...(conflicts ?? []), mid].slice(-MAX_REMEMBERED_CONFLICTS)

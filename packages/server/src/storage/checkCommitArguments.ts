import { isWellFormed, type Mutation } from '@cubby/protocol'

/** A string to key storage records by: non-empty and well-formed (a lone surrogate would be stored as U+FFFD). */
const isNonEmptyString = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && isWellFormed(s)

/**
 * Guards the storage against misuse (validation of keys, values and sizes happens above it), so that one bad
 * call fails alone instead of failing the group commit it would have joined.
 *
 * @throws TypeError when an argument does not have the documented shape.
 */
export function checkCommitArguments(userId: unknown, mutations: unknown, clientId: unknown): void {
  if (!isNonEmptyString(userId)) throw new TypeError('commit: userId must be a non-empty, well-formed string')
  if (clientId !== undefined && !isNonEmptyString(clientId)) throw new TypeError('commit: clientId must be a non-empty, well-formed string')
  if (!Array.isArray(mutations)) throw new TypeError('commit: mutations must be an array')
  for (const m of mutations as unknown[]) checkMutation(m)
}

function checkMutation(m: unknown): asserts m is Mutation {
  if (typeof m !== 'object' || m === null) throw new TypeError('commit: a mutation must be an object')
  const { op, mid, key, value } = m as Record<string, unknown>
  if (!Number.isSafeInteger(mid) || (mid as number) < 1) throw new TypeError('commit: mid must be a positive integer')
  if (op === 'clear') return
  if (op !== 'store' && op !== 'delete') throw new TypeError(`commit: unknown op ${String(op)}`)
  if (!isNonEmptyString(key)) throw new TypeError('commit: key must be a non-empty, well-formed string')
  if (op === 'store' && typeof value !== 'string') throw new TypeError('commit: value must be an encoded string')
}

import { CubbyError, type CubbyLimits, assertValidKey, encodeValue, utf8Length } from '@cubby/protocol/core'
import type { MutationInput } from '../Replica.js'

/**
 * Checks and encodes a `store`: the value is encoded now, so later changes by the caller do not leak in.
 *
 * @throws TypeError for a key that is not a string; CubbyError `INVALID_KEY`, `INVALID_VALUE` (also for `undefined`
 * itself, which only `delete` removes) or `VALUE_TOO_LARGE`.
 * @internal
 */
export function storeInput(key: unknown, value: unknown, limits: CubbyLimits, expiresAt?: number): MutationInput {
  assertValidKey(key, limits.maxKeyBytes)
  // A key that holds undefined would list, yet read as missing: say what to do instead.
  if (value === undefined) throw new CubbyError('INVALID_VALUE', `${JSON.stringify(key)}: undefined cannot be stored; use delete()`)
  const encoded = encodeValue(value)
  // A UTF-16 unit is at most 3 bytes of UTF-8: most values are counted by their length alone.
  const bytes = encoded.length * 3 <= limits.maxValueBytes ? 0 : utf8Length(encoded)
  if (bytes > limits.maxValueBytes) {
    throw new CubbyError('VALUE_TOO_LARGE', `${JSON.stringify(key)}: ${bytes} bytes, over ${limits.maxValueBytes}`)
  }
  return expiresAt === undefined ? { op: 'store', mid: 0, key, value: encoded } : { op: 'store', mid: 0, key, value: encoded, expiresAt }
}

/**
 * Checks a `delete`.
 *
 * @throws TypeError for a key that is not a string; CubbyError `INVALID_KEY`.
 * @internal
 */
export function deleteInput(key: unknown, limits: CubbyLimits): MutationInput {
  assertValidKey(key, limits.maxKeyBytes)
  return { op: 'delete', mid: 0, key }
}

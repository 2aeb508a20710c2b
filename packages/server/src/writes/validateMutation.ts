import { CubbyError, MAX_TTL_MS, assertValidKey, assertValidUserId, decodeValue, isExpiresAt, utf8Length } from '@cubby/protocol'
import type { CubbyLimits, Mutation, WireError } from '@cubby/protocol'

/**
 * Tells whether a string is well-formed UTF-16 (no lone surrogates). Ill-formed strings would be stored as
 * U+FFFD, so two different keys or user ids could land on the same record.
 */
export function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)
}

const toWireError = (e: unknown, fallback: CubbyError): WireError => {
  const error = e instanceof CubbyError ? e : fallback
  return { code: error.code, message: error.message }
}

/**
 * Checks one mutation against the limits: its key, the size of its value, and that the value decodes.
 *
 * @returns `undefined` when the mutation may be stored, else why not.
 */
export function validateMutation(m: Mutation, limits: CubbyLimits): WireError | undefined {
  if (m.op === 'clear') return undefined
  try {
    assertValidKey(m.key, limits.maxKeyBytes)
    if (!isWellFormed(m.key)) throw new CubbyError('INVALID_KEY', 'A key must be well-formed Unicode (no lone surrogates)')
  } catch (e) {
    return toWireError(e, new CubbyError('INVALID_KEY', 'A key must be a non-empty string'))
  }
  if (m.op === 'delete') return undefined
  if (m.expiresAt !== undefined && (!isExpiresAt(m.expiresAt) || m.expiresAt > Date.now() + MAX_TTL_MS)) {
    return { code: 'INVALID_VALUE', message: `expiresAt must be a moment in ms since the epoch at most ${MAX_TTL_MS} ms ahead` }
  }
  if (utf8Length(m.value) > limits.maxValueBytes) {
    return { code: 'VALUE_TOO_LARGE', message: `An encoded value may be at most ${limits.maxValueBytes} bytes` }
  }
  if (!isWellFormed(m.value)) {
    // LevelDB stores UTF-8, where a raw lone surrogate would silently become U+FFFD; JSON escapes them instead.
    return { code: 'INVALID_VALUE', message: 'An encoded value must be well-formed Unicode (escape lone surrogates as \\uXXXX)' }
  }
  try {
    // `undefined` is no value: a key holding it would be listed but read as missing. Clients delete instead.
    if (decodeValue(m.value) === undefined) return { code: 'INVALID_VALUE', message: 'undefined cannot be stored; delete the key instead' }
    return undefined
  } catch (e) {
    return { code: 'INVALID_VALUE', message: e instanceof Error ? e.message : 'The value does not decode' }
  }
}

/**
 * Checks a user id from a token, an `authenticate` hook or a server-side call.
 *
 * @throws CubbyError `INVALID_USER_ID`.
 */
export function assertUserId(userId: unknown, limits: CubbyLimits): asserts userId is string {
  assertValidUserId(userId, limits.maxUserIdBytes)
  if (!isWellFormed(userId)) throw new CubbyError('INVALID_USER_ID', 'A user id must be well-formed Unicode (no lone surrogates)')
}

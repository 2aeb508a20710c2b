/**
 * The part of the protocol a client needs before it has loaded its replica: errors, limits, expiry and the
 * value encoder. Same modules as the main entry, so `CubbyError` is one class; the main entry also has the
 * message parsers and the decoder. A bundler that splits code at file level (esbuild) keeps those out of
 * the client's initial chunk only when that chunk imports from here.
 * @module
 */

export { CubbyError, isCubbyError } from './CubbyError.js'
export type { CubbyErrorCode, UnauthorizedReason } from './errorCodes.js'
export { DEFAULT_LIMITS, MAX_MUTATIONS_PER_BATCH, assertValidKey, compareKeys, utf8Length } from './limits.js'
export type { CubbyLimits } from './limits.js'
export { resolveExpiresAt } from './expiry.js'
export type { ExpiryInput } from './expiry.js'
export { encodeValue } from './encodeValue.js'

import { CubbyError } from './CubbyError.js'

/** Size limits, shared by client and server so that a client rejects early what the server would reject. */
export interface CubbyLimits {
  /** Largest key, in UTF-8 bytes. @default 1024 */
  maxKeyBytes: number
  /** Largest user id, in UTF-8 bytes. @default 256 */
  maxUserIdBytes: number
  /** Largest encoded value, in UTF-8 bytes of its encoding. @default 1_048_576 */
  maxValueBytes: number
  /** Largest WebSocket frame or HTTP body. Must exceed `maxValueBytes` plus the key and envelope. @default 4_194_304 */
  maxMessageBytes: number
}

/** The defaults of {@link CubbyLimits}. */
export const DEFAULT_LIMITS: Readonly<CubbyLimits> = Object.freeze({
  maxKeyBytes: 1024,
  maxUserIdBytes: 256,
  maxValueBytes: 1024 * 1024,
  maxMessageBytes: 4 * 1024 * 1024,
})

/**
 * Counts the UTF-8 bytes of a string without allocating (lone surrogates count as the 3 bytes of U+FFFD,
 * as TextEncoder writes them).
 */
export function utf8Length(s: string): number {
  let bytes = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    // 2 bytes below U+0800, else 3; a surrogate pair is 4 for its two units (a lone surrogate, 3).
    bytes += c < 0x800 ? 1 : 2
    if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++
  }
  return bytes
}

/** Matches a lone (unpaired) surrogate: in `u` mode a well-formed pair is one code point and does not match. */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Tells whether a string is well-formed UTF-16, i.e. has no lone surrogates. Such strings cannot be stored
 * as keys: UTF-8 (and so LevelDB) would turn every lone surrogate into U+FFFD, folding distinct keys together.
 */
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s)

/**
 * Checks a key: a non-empty, well-formed string of at most `maxKeyBytes` UTF-8 bytes; any characters are allowed.
 *
 * @throws TypeError when `key` is not a string (misuse); CubbyError `INVALID_KEY` when it is empty or too long.
 */
export function assertValidKey(key: unknown, maxKeyBytes: number = DEFAULT_LIMITS.maxKeyBytes): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`A Cubby key must be a string, got ${typeof key}`)
  if (key.length === 0) throw new CubbyError('INVALID_KEY', 'A key must not be empty')
  if (key.length > maxKeyBytes || utf8Length(key) > maxKeyBytes) {
    throw new CubbyError('INVALID_KEY', `A key may be at most ${maxKeyBytes} UTF-8 bytes`)
  }
  if (!isWellFormed(key)) throw new CubbyError('INVALID_KEY', 'A key must not contain lone surrogates')
}

/**
 * Checks a user id: an opaque non-empty string of at most `maxUserIdBytes` UTF-8 bytes.
 *
 * @throws CubbyError `INVALID_USER_ID`.
 */
export function assertValidUserId(userId: unknown, maxUserIdBytes: number = DEFAULT_LIMITS.maxUserIdBytes): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0 || utf8Length(userId) > maxUserIdBytes || !isWellFormed(userId)) {
    throw new CubbyError('INVALID_USER_ID', `A user id must be a non-empty, well-formed string of at most ${maxUserIdBytes} UTF-8 bytes`)
  }
}

/**
 * Orders keys the way every Cubby listing does: by Unicode code point, which is the order of their UTF-8 bytes
 * (and of LevelDB). Plain `<` on JS strings compares UTF-16 units and differs for characters above U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // A surrogate (0xD800-0xDFFF) stands for a code point above 0xFFFF, so it sorts after 0xE000-0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x
    const ys = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y
    return xs - ys
  }
  return a.length - b.length
}

/** Most mutations in one atomic batch (`push.batch`), over all its frames. */
export const MAX_MUTATIONS_PER_BATCH = 10_000

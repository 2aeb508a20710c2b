import { CubbyError } from './CubbyError.js'

/** The longest time to live a value may get: ten years, in milliseconds. */
export const MAX_TTL_MS: number = 10 * 366 * 24 * 60 * 60 * 1000

/** Tells whether `n` can be an `expiresAt`: a positive safe integer (milliseconds since the epoch). */
export const isExpiresAt = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0

/** When a value expires, as `store` takes it: a time to live, or a moment. */
export interface ExpiryInput {
  /** Milliseconds from now (on the server's clock) until the value expires: a positive number up to {@link MAX_TTL_MS}. */
  ttl?: number
  /** The moment the value expires (server time), as a `Date` or milliseconds since the epoch, at most {@link MAX_TTL_MS} ahead. */
  expiresAt?: Date | number
}

/**
 * Turns a `ttl` or `expiresAt` into an `expiresAt` in whole milliseconds on the server's clock, or `undefined`
 * for neither (the value never expires). A moment already past is allowed: the value is gone at once.
 *
 * @param now The server's time now, in milliseconds since the epoch.
 * @throws CubbyError `INVALID_VALUE` for a ttl that is not a positive finite number, a moment that is not a
 * valid date, either beyond {@link MAX_TTL_MS}, or both given.
 * @example
 * ```ts
 * resolveExpiresAt({ ttl: 60_000 }, Date.now()) // a minute from now
 * ```
 */
export function resolveExpiresAt({ ttl, expiresAt }: ExpiryInput, now: number): number | undefined {
  if (ttl !== undefined && expiresAt !== undefined) throw new CubbyError('INVALID_VALUE', 'Give either ttl or expiresAt, not both')
  if (ttl !== undefined) {
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TTL_MS) {
      throw new CubbyError('INVALID_VALUE', `ttl must be a positive number of milliseconds up to ${MAX_TTL_MS}`)
    }
    return Math.ceil(now + ttl)
  }
  if (expiresAt === undefined) return undefined
  const ms = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > now + MAX_TTL_MS) {
    throw new CubbyError('INVALID_VALUE', `expiresAt must be a valid moment at most ${MAX_TTL_MS} ms ahead`)
  }
  return Math.ceil(ms)
}

/** Tells whether a value with this `expiresAt` is gone at `now` (expiry is inclusive: at the moment, it is gone). */
export const isExpired = (expiresAt: number | undefined, now: number): boolean => expiresAt !== undefined && expiresAt <= now

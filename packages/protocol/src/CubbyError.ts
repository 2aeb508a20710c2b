import type { CubbyErrorCode, UnauthorizedReason } from './errorCodes.js'

/**
 * The one error class of Cubby: a stable `code` (the contract) and a message meant for people (which may change).
 *
 * @example
 * ```ts
 * try { await cubby.store('', 1) } catch (e) { if (isCubbyError(e, 'INVALID_KEY')) console.warn(e.message) }
 * ```
 */
export class CubbyError extends Error {
  override readonly name = 'CubbyError'
  readonly code: CubbyErrorCode
  /** Seconds to wait before retrying, where the server said so (`RATE_LIMITED`). */
  readonly retryAfter: number | undefined
  /** Why the server refused a token (`UNAUTHORIZED`), where it said so: `missing`, `invalid`, `expired` or `revoked`. */
  readonly reason: UnauthorizedReason | undefined

  constructor(code: CubbyErrorCode, message?: string, options?: ErrorOptions & { retryAfter?: number; reason?: UnauthorizedReason }) {
    super(message ?? code, options)
    this.code = code
    this.retryAfter = options?.retryAfter
    this.reason = options?.reason
  }

  /** The `{ code, message }` shape in which errors cross the wire. */
  toJSON(): { code: CubbyErrorCode; message: string } {
    return { code: this.code, message: this.message }
  }
}

/**
 * Tells whether `e` is a {@link CubbyError}, optionally with the given code.
 *
 * @example
 * ```ts
 * if (isCubbyError(err, 'VALUE_TOO_LARGE')) showToast('That is too big to save')
 * ```
 */
export const isCubbyError = (e: unknown, code?: CubbyErrorCode): e is CubbyError =>
  e instanceof CubbyError && (code === undefined || e.code === code)

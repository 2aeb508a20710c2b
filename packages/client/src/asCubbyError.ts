import { CubbyError, type CubbyErrorCode } from '@cubby/protocol/core'

/**
 * Reports a failure as a CubbyError: `error` itself when it is one, else a new one with `code` that wraps it.
 *
 * @internal
 */
export const asCubbyError = (error: unknown, code: CubbyErrorCode, message: string = String(error)): CubbyError =>
  error instanceof CubbyError ? error : new CubbyError(code, message, { cause: error })

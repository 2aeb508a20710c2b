import { CubbyError } from '../CubbyError.js'

/** Limits and sentinels of the encoding, shared by both directions. */
export const MAX_DEPTH = 1000
export const MAX_ARRAY_LENGTH = 4294967295
export const TILDE = 0x7e

export const UNDEFINED = -1
export const HOLE = -2
export const NAN = -3
export const POS_INF = -4
export const NEG_INF = -5
export const NEG_ZERO = -6

export const invalid = (message: string): CubbyError => new CubbyError('INVALID_VALUE', message)

/** The standard Error constructors by name: the only errors the encoding keeps apart. */
export const ERRORS: Record<string, ErrorConstructor> = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }

export const defineOwn = (target: object, key: PropertyKey, value: unknown): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}

export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // Assigning '__proto__' would call the inherited setter and change the prototype.
  if (key === '__proto__') defineOwn(target, key, value)
  else target[key] = value
}

// PLACEHOLDER: being written by the codec helper; signatures are the contract.
import { CubbyError } from './CubbyError.js'

/** Content type of a value whose encoding is plain JSON. */
export const JSON_CONTENT_TYPE = 'application/json'
/** Content type of a value in Cubby's typed encoding (the body is the encoding without its leading `~`). */
export const CUBBY_VALUE_CONTENT_TYPE = 'application/vnd.cubby.value+json'

export function encodeValue(value: unknown): string {
  throw new CubbyError('INTERNAL', `not implemented ${typeof value}`)
}
export function decodeValue(encoded: string): unknown {
  throw new CubbyError('INTERNAL', `not implemented ${encoded.length}`)
}
export function isJsonEncoding(encoded: string): boolean {
  return !encoded.startsWith('~')
}

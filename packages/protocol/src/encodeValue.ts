import { encodeTyped } from './codec/encodeTyped.js'
import { isJsonPrimitive, isPlainJson } from './codec/jsonFastPath.js'

/**
 * Encodes a value for storage and the wire. Plain JSON values come out as exactly `JSON.stringify(value)`;
 * everything else that `structuredClone` accepts comes out in Cubby's typed encoding, which starts with `~`.
 *
 * @param value - Any value `structuredClone` can copy (except SharedArrayBuffer, Blob and File), nested at
 *   most 1000 levels deep.
 * @returns The encoded value; `decodeValue` turns it back into a copy of `value`.
 * @throws CubbyError `INVALID_VALUE` naming what cannot be stored and where, e.g.
 *   `value.items[3].onClick is a function; functions cannot be stored`.
 * @example
 * ```ts
 * encodeValue({ theme: 'dark' }) // '{"theme":"dark"}'
 * encodeValue(new Set([1n])) // '~[["Set",1],["BigInt","1"]]'
 * ```
 */
export function encodeValue(value: unknown): string {
  if (typeof value === 'object' ? value === null || isPlainJson(value, 1, new Set()) : isJsonPrimitive(value)) {
    return JSON.stringify(value)
  }
  const [root, table] = encodeTyped(value)
  return `~${root < 0 ? root : JSON.stringify(table)}`
}

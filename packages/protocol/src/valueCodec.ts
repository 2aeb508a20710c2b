/*
 * The value codec: turns any structured-cloneable value into a string and back.
 *
 * Two encodings share one string type.
 *
 * 1. JSON. A value that JSON carries unchanged is encoded as exactly `JSON.stringify(value)`: null, booleans,
 *    strings, finite numbers other than -0, arrays without holes, and plain objects (prototype
 *    `Object.prototype` or null) without `undefined` members, nested at most 1000 levels, with no object reached
 *    twice. Such an encoding never starts with `~`.
 *
 * 2. Typed. Anything else is `'~' + JSON.stringify(table)`, where `table` is a flat array of nodes and
 *    `table[0]` is the root. A node refers to other values by reference: an index into the table, or one of
 *    these negative sentinels:
 *
 *      -1 undefined   -2 hole (dense arrays only)   -3 NaN   -4 Infinity   -5 -Infinity   -6 -0
 *
 *    Nodes:
 *      null, true, 1.5, "text"                     the JSON primitive itself (stored once, shared)
 *      {"a": ref, ...}                             plain object or class instance (own enumerable string keys)
 *      [ref, ...]                                  array (-2 marks a hole); never starts with a string
 *      ["Sparse", length, index, ref, index, ref, ...]  array with more holes than elements
 *      ["Array", length, index, ref, ..., name, ref, ...]  array with other own properties (`a.note = 'x'`,
 *                                                  a RegExp match's `index`): its elements by index, then each
 *                                                  named property; a name is never an array index nor "length"
 *      ["Date", ms | null]                         null for an invalid Date
 *      ["RegExp", source, flags]
 *      ["Map", keyRef, valueRef, ...]              entries in order
 *      ["Set", ref, ...]
 *      ["BigInt", "hex"]                           a bigint primitive: hexadecimal digits, "-" if negative
 *      ["BigIntObject", "hex"]                     Object(bigint)
 *      ["Boolean", b]  ["String", s]               boxed primitives
 *      ["Number", n | "NaN" | "Infinity" | "-Infinity" | "-0"]
 *      ["Error", name, message?]                   name is Error, EvalError, RangeError, ReferenceError,
 *                                                  SyntaxError, TypeError or URIError (others become Error);
 *                                                  no message without an own message; no stack, no cause
 *      ["ArrayBuffer", "base64"]                   standard alphabet, padded
 *      [TypedArrayName, bufferRef, byteOffset, length]   Int8Array ... BigUint64Array, Float16Array
 *      ["DataView", bufferRef, byteOffset, byteLength]   bufferRef names an ArrayBuffer node
 *
 *    A root that has no node of its own (undefined, NaN, ±Infinity, -0) is written as its sentinel: `~-1`.
 *    Objects reached twice refer to one node, so shared references and cycles survive. Nodes are numbered in
 *    depth-first order of first reach; decoding walks in the same order and makes each container before its
 *    contents. The root object is level 1 and whatever it holds level 2; values nested deeper than level 1000
 *    are rejected both ways (a view's buffer counts as the view's level).
 * *
 * Arrays keep their elements, holes and other own properties, as structuredClone does. An array without other
 * properties is encoded as before (JSON when it can be). Finding other properties takes the list of an array's
 * keys, which costs more than the rest of encoding a long array of numbers (about 16 ms instead of 1.3 ms for
 * 100,000 numbers in Node 20), and little for the short arrays most values hold.
 *
 * `decodeValue` is the server's validation of untrusted input: every malformed string throws CubbyError
 * `INVALID_VALUE`, work and memory stay proportional to the input, and keys such as `__proto__` become own
 * properties without touching any prototype.
 */
import { CubbyError } from './CubbyError.js'

/** Content type of a value whose encoding is plain JSON. */
export const JSON_CONTENT_TYPE = 'application/json'
/** Content type of a value in Cubby's typed encoding (the body is the encoding without its leading `~`). */
export const CUBBY_VALUE_CONTENT_TYPE = 'application/vnd.cubby.value+json'
import { decodeTyped } from './codec/decodeTyped.js'
import { isJsonDeeperThan } from './codec/jsonDepth.js'
import { parseJson } from './codec/jsonFastPath.js'
import { invalid, MAX_DEPTH, TILDE } from './codec/shared.js'

const tooDeep = (): CubbyError => invalid(`The value is nested deeper than ${MAX_DEPTH} levels`)

// ---------------------------------------------------------------- API

// In its own file, so that an encoder alone (the client's first chunk) does not take the decoder with it.
export { encodeValue } from './encodeValue.js'

/**
 * Decodes what {@link encodeValue} made, giving what `structuredClone` would have given. Safe on untrusted
 * input: it checks every node, never pollutes prototypes, and works in time and memory proportional to the input.
 *
 * @param encoded - An encoding from `encodeValue`, or any string to validate.
 * @returns A fresh copy of the encoded value, with shared references and cycles restored.
 * @throws CubbyError `INVALID_VALUE` when `encoded` is not a valid encoding (and nothing else for any string).
 * @throws TypeError when `encoded` is not a string (misuse).
 * @example
 * ```ts
 * const prefs = decodeValue('{"theme":"dark"}') // { theme: 'dark' }
 * const when = decodeValue(encodeValue(new Date(0))) // a Date
 * ```
 */
export function decodeValue(encoded: string): unknown {
  if (typeof encoded !== 'string') throw new TypeError(`decodeValue takes a string, got ${typeof encoded}`)
  if (encoded.charCodeAt(0) !== TILDE) {
    // JSON.parse itself takes any depth, slowly: the depth is checked before it runs. Depth 1001 needs at least
    // 2002 characters, so short values skip the scan.
    if (encoded.length > 2 * MAX_DEPTH + 1 && isJsonDeeperThan(encoded, MAX_DEPTH)) throw tooDeep()
    return parseJson(encoded)
  }
  // A table is a flat array of nodes (depth 2), so its JSON never needs more than MAX_DEPTH either.
  if (encoded.length > 2 * MAX_DEPTH + 1 && isJsonDeeperThan(encoded, MAX_DEPTH)) throw tooDeep()
  try {
    return decodeTyped(parseJson(encoded.slice(1)))
  } catch (e) {
    if (e instanceof CubbyError) throw e
    // A safety net: no input may escape as another error (a stack overflow near the caller's limit, say).
    throw new CubbyError('INVALID_VALUE', 'The encoded value could not be decoded', { cause: e })
  }
}

/**
 * Tells whether an encoding is plain JSON (so it may be served as {@link JSON_CONTENT_TYPE}), rather than
 * Cubby's typed encoding ({@link CUBBY_VALUE_CONTENT_TYPE}).
 *
 * @param encoded - A string from {@link encodeValue}.
 * @returns `true` unless `encoded` starts with `~`.
 * @throws Nothing.
 * @example
 * ```ts
 * res.type(isJsonEncoding(e) ? JSON_CONTENT_TYPE : CUBBY_VALUE_CONTENT_TYPE).send(isJsonEncoding(e) ? e : e.slice(1))
 * ```
 */
export function isJsonEncoding(encoded: string): boolean {
  return encoded.charCodeAt(0) !== TILDE
}

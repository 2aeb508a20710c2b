import { fromBase64 } from './base64.js'
import { ERRORS, HOLE, invalid, MAX_ARRAY_LENGTH, MAX_DEPTH, NEG_ZERO, defineOwn, setOwn } from './shared.js'

/** Decoding: checks untrusted tables; anything wrong is CubbyError INVALID_VALUE, never another error. */

const isCount = (n: unknown, max: number): n is number => typeof n === 'number' && n >= 0 && n <= max && n % 1 === 0

/** Tells whether a property name is an array index (which would change an array's elements or length). */
const isArrayIndex = (key: string): boolean => isCount(Number(key), MAX_ARRAY_LENGTH - 1) && String(Number(key)) === key

type ViewConstructor = (new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView) & { BYTES_PER_ELEMENT?: number }

/** The constructors of views by node type; Float16Array only where the runtime has it. */
const VIEWS: Record<string, ViewConstructor | undefined> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float16Array: (globalThis as { Float16Array?: ViewConstructor }).Float16Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
}

/** Reads canonical hexadecimal digits only (lowercase, no leading zero, no "-0"), or returns undefined. */
function hexToBigint(s: unknown): bigint | undefined {
  if (typeof s !== 'string' || !/^(0|-?[1-9a-f][0-9a-f]*)$/.test(s)) return undefined
  const magnitude = BigInt(`0x${s.replace('-', '')}`)
  return s.charCodeAt(0) === 0x2d ? -magnitude : magnitude
}

/** Boxed numbers that JSON cannot write, by the strings that stand for them. */
const SPECIAL_NUMBERS: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0 }

/** The values of the sentinels -1 to -6, by -1 - ref; -2 (a hole) has none. */
const SENTINELS: readonly unknown[] = [undefined, undefined, NaN, Infinity, -Infinity, -0]

function sentinel(ref: number): unknown {
  if (ref === HOLE) throw invalid('A hole (-2) may only stand in an array')
  return SENTINELS[-1 - ref]
}

const UNKNOWN: unique symbol = Symbol('unknown')

/** V8's (and so Node's and Chromium's) knob for how many frames a new Error's stack captures; other engines lack it. */
const V8Error = Error as ErrorConstructor & { stackTraceLimit?: number }

/**
 * A new error without a stack. The stack would point at this decoder, not at where the error was made, and
 * capturing it is most of the cost of `new Error()` (about 6 µs, so 0.5 s per megabyte of Error nodes): it is
 * turned off while the error is made, then the stack property is dropped.
 */
function makeError(Ctor: ErrorConstructor, message: string | undefined): Error {
  const limit = V8Error.stackTraceLimit
  if (limit !== undefined) V8Error.stackTraceLimit = 0
  try {
    const error = message === undefined ? new Ctor() : new Ctor(message)
    delete error.stack
    return error
  } finally {
    if (limit !== undefined) V8Error.stackTraceLimit = limit
  }
}

/** Makes the value of a leaf node (no references): undefined for a malformed one, UNKNOWN for an unknown type. */
function leaf(tag: string, node: unknown[]): unknown {
  const arity = node.length - 1
  const a = node[1]
  const b = node[2]
  switch (tag) {
    case 'Date':
      return arity === 1 && (a === null || typeof a === 'number') ? new Date(a ?? NaN) : undefined
    case 'RegExp':
      if (arity !== 2 || typeof a !== 'string' || typeof b !== 'string') return undefined
      try {
        return new RegExp(a, b)
      } catch {
        return undefined
      }
    case 'BigInt':
    case 'BigIntObject': {
      const n = arity === 1 ? hexToBigint(a) : undefined
      return n === undefined || tag === 'BigInt' ? n : Object(n)
    }
    case 'Boolean':
      return arity === 1 && typeof a === 'boolean' ? new Boolean(a) : undefined
    case 'Number': {
      const n = typeof a === 'string' && Object.hasOwn(SPECIAL_NUMBERS, a) ? SPECIAL_NUMBERS[a] : a
      return arity === 1 && typeof n === 'number' ? new Number(n) : undefined
    }
    case 'String':
      return arity === 1 && typeof a === 'string' ? new String(a) : undefined
    case 'Error': {
      const Ctor = typeof a === 'string' && Object.hasOwn(ERRORS, a) ? ERRORS[a]! : undefined
      if (Ctor === undefined || arity > 2 || (arity === 2 && typeof b !== 'string')) return undefined
      return makeError(Ctor, arity === 2 ? (b as string) : undefined)
    }
    case 'ArrayBuffer':
      return (arity === 1 && typeof a === 'string' ? fromBase64(a) : undefined)?.buffer
  }
  return UNKNOWN
}

/**
 * Decodes a parsed typed encoding (what follows the `~`). The walk is depth-first, in the encoder's order; it
 * makes each container, and remembers it for cycles, before its contents, and recurses at most
 * {@link MAX_DEPTH} containers deep.
 */
export function decodeTyped(payload: unknown): unknown {
  if (typeof payload === 'number') {
    if (payload === HOLE || payload % 1 !== 0 || payload >= 0 || payload < NEG_ZERO) throw invalid('Malformed root')
    return sentinel(payload)
  }
  if (!Array.isArray(payload) || payload.length === 0) throw invalid('Malformed root')
  const table: unknown[] = payload
  /** Objects made so far, by table index. */
  const made: unknown[] = []

  const value = (ref: unknown, depth: number): unknown => {
    if (typeof ref !== 'number' || !(ref >= NEG_ZERO && ref < table.length) || ref % 1 !== 0) {
      throw invalid(`Malformed reference ${JSON.stringify(ref)?.slice(0, 40)}`)
    }
    if (ref < 0) return sentinel(ref)
    const node = table[ref]
    if (typeof node !== 'object' || node === null) return node
    if (made[ref] !== undefined) return made[ref]
    const tag = Array.isArray(node) && typeof node[0] === 'string' ? node[0] : undefined
    // A bigint is no object, so it does not count as a level.
    if (depth > MAX_DEPTH && tag !== 'BigInt') throw invalid(`The value is nested deeper than ${MAX_DEPTH} levels`)
    const malformed = (): never => {
      throw invalid(`Malformed ${tag} node at table[${ref}]`)
    }
    const items = node as unknown[]
    const d = depth + 1
    if (tag === undefined) {
      if (Array.isArray(node)) {
        const out: unknown[] = (made[ref] = [])
        for (let i = 0; i < items.length; i++) {
          if (items[i] === HOLE) out.length = i + 1
          else out.push(value(items[i], d))
        }
        return out
      }
      const out: Record<string, unknown> = (made[ref] = {})
      for (const key of Object.keys(node)) setOwn(out, key, value((node as Record<string, unknown>)[key], d))
      return out
    }
    const arity = items.length - 1
    if (tag === 'Map') {
      if (arity % 2 !== 0) malformed()
      const out = (made[ref] = new Map())
      // The key is decoded (and its contents visited) before the value.
      for (let i = 1; i < items.length; i += 2) {
        const key = value(items[i], d)
        out.set(key, value(items[i + 1], d))
      }
      return out
    }
    if (tag === 'Set') {
      const out = (made[ref] = new Set())
      for (let i = 1; i < items.length; i++) out.add(value(items[i], d))
      return out
    }
    if (tag === 'Sparse' || tag === 'Array') {
      const n = items[1]
      if (!isCount(n, MAX_ARRAY_LENGTH) || arity % 2 !== 1) malformed()
      const out: unknown[] = (made[ref] = [])
      // V8 allocates a slot per element when a small array's length grows; a huge length first keeps the
      // array in dictionary mode, so that holes cost nothing. The real length is set when it is filled.
      out.length = (n as number) > items.length + 16 ? MAX_ARRAY_LENGTH : (n as number)
      for (let i = 2; i < items.length; i += 2) {
        const key = items[i]
        // An Array node may also name other own properties: strings that are neither an index nor `length`.
        if (tag === 'Array' && typeof key === 'string' && key !== 'length' && !isArrayIndex(key)) {
          setOwn(out as unknown as Record<string, unknown>, key, value(items[i + 1], d))
          continue
        }
        if (!isCount(key, (n as number) - 1)) malformed()
        defineOwn(out, key as number, value(items[i + 1], d))
      }
      out.length = n as number
      return out
    }
    const View = Object.hasOwn(VIEWS, tag) ? VIEWS[tag] : undefined
    if (View === undefined) {
      const out = leaf(tag, items)
      if (out === UNKNOWN) {
        throw invalid(`Unknown node type ${JSON.stringify(tag.slice(0, 40))}${tag === 'Float16Array' ? ' (this runtime has no Float16Array)' : ''}`)
      }
      return (made[ref] = out ?? malformed())
    }
    // A view names its ArrayBuffer node, at an offset and for a length that fit it. Checking the node first
    // keeps the recursion flat: an ArrayBuffer node refers to nothing.
    const [, bufferRef, byteOffset, length] = items
    const bufferNode = typeof bufferRef === 'number' ? table[bufferRef] : undefined
    if (arity !== 3 || !Array.isArray(bufferNode) || bufferNode[0] !== 'ArrayBuffer') malformed()
    const buffer = value(bufferRef, depth) as ArrayBuffer
    const size = View.BYTES_PER_ELEMENT ?? 1
    if (!isCount(byteOffset, buffer.byteLength) || !isCount(length, buffer.byteLength) || byteOffset % size !== 0 || byteOffset + length * size > buffer.byteLength) {
      malformed()
    }
    return (made[ref] = new View(buffer, byteOffset as number, length as number))
  }

  return value(0, 1)
}

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
 *
 * Arrays keep their elements and holes. Other own properties of an array (`index` and `input` on a RegExp match)
 * are dropped, as JSON drops them, where structuredClone would keep them: finding them takes a list of every
 * index, which would double the cost of encoding large arrays.
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

const MAX_DEPTH = 1000
const MAX_ARRAY_LENGTH = 4294967295
const TILDE = 0x7e

const UNDEFINED = -1
const HOLE = -2
const NAN = -3
const POS_INF = -4
const NEG_INF = -5
const NEG_ZERO = -6

const invalid = (message: string): CubbyError => new CubbyError('INVALID_VALUE', message)

// ---------------------------------------------------------------- brand checks

type Method = (this: unknown) => unknown
const getter = (proto: object, key: PropertyKey): Method => Object.getOwnPropertyDescriptor(proto, key)!.get as Method
const TypedArrayPrototype: object = Object.getPrototypeOf(Uint8Array.prototype) as object
const typedArrayName = getter(TypedArrayPrototype, Symbol.toStringTag)
const typedArrayBuffer = getter(TypedArrayPrototype, 'buffer')
const typedArrayByteOffset = getter(TypedArrayPrototype, 'byteOffset')
const typedArrayLength = getter(TypedArrayPrototype, 'length')
const dataViewBuffer = getter(DataView.prototype, 'buffer')
const dataViewByteOffset = getter(DataView.prototype, 'byteOffset')
const dataViewByteLength = getter(DataView.prototype, 'byteLength')
const arrayBufferByteLength = getter(ArrayBuffer.prototype, 'byteLength')
const mapSize = getter(Map.prototype, 'size')
const setSize = getter(Set.prototype, 'size')
const regExpSource = getter(RegExp.prototype, 'source')
const regExpFlags = getter(RegExp.prototype, 'flags')
const objectToString = Object.prototype.toString as Method

const NOT_BRANDED: unique symbol = Symbol('not branded')

/** Calls a built-in method that throws a TypeError unless `v` has the right internal slot. */
function tryBrand(method: Method, v: object): unknown {
  try {
    return method.call(v)
  } catch {
    return NOT_BRANDED
  }
}

// ---------------------------------------------------------------- JSON fast path

/** Tells whether `v` is a string, a boolean or a finite number other than -0. */
function isJsonPrimitive(v: unknown): boolean {
  if (typeof v === 'string' || typeof v === 'boolean') return true
  // v - v is 0 only for finite numbers; 1 / -0 is -Infinity.
  return typeof v === 'number' && v - v === 0 && (v !== 0 || 1 / v > 0)
}

/** One walk that tells whether `JSON.stringify(v)` round-trips `v` exactly, identity included. */
function isPlainJson(v: object, depth: number, seen: Set<object>): boolean {
  if (depth > MAX_DEPTH) return false
  const size = seen.size
  // One hash lookup instead of has() then add(): the set grows unless v was reached before.
  if (seen.add(v).size === size) return false
  const proto: unknown = Object.getPrototypeOf(v)
  if (proto === Array.prototype) {
    if (!Array.isArray(v)) return false
    // A hole reads as undefined, which is not JSON, so holes fail here too.
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i]
      if (typeof x === 'object' ? x !== null && !isPlainJson(x, depth + 1, seen) : !isJsonPrimitive(x)) return false
    }
    return true
  }
  // The tag check catches objects that have Object.prototype but are not plain, like `arguments`.
  if ((proto !== Object.prototype && proto !== null) || objectToString.call(v) !== '[object Object]') return false
  const keys = Object.keys(v)
  for (let i = 0; i < keys.length; i++) {
    const x = (v as Record<string, unknown>)[keys[i]!]
    if (typeof x === 'object' ? x !== null && !isPlainJson(x, depth + 1, seen) : !isJsonPrimitive(x)) return false
  }
  return true
}

// ---------------------------------------------------------------- paths in error messages

const PROP = 0
const INDEX = 1
const MAP_KEY = 2
const MAP_VALUE = 3
const SET_ITEM = 4

function formatStep(kind: number, key: unknown): string {
  switch (kind) {
    case PROP:
      return /^[A-Za-z_$][\w$]*$/.test(key as string) ? `.${key as string}` : `[${JSON.stringify(key)}]`
    case INDEX:
      return `[${key as number}]`
    case MAP_KEY:
      return `.keys()[${key as number}]`
    case MAP_VALUE:
      return `.get(${previewKey(key)})`
    default:
      return `.values()[${key as number}]`
  }
}

/** A Map key as it would be written in code, shortened; objects only as `<object>`. */
function previewKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)
  if (typeof key === 'bigint') return `${key}n`
  return (typeof key === 'object' && key !== null) || typeof key === 'function' ? '<object>' : String(key)
}

/** `path` holds (kind, key) pairs from the root down. Long paths keep their two ends. */
function formatPath(path: readonly unknown[]): string {
  const steps = ['value']
  for (let i = 0; i < path.length; i += 2) steps.push(formatStep(path[i] as number, path[i + 1]))
  return steps.length > 24 ? `${steps.slice(0, 12).join('')}…${steps.slice(-11).join('')}` : steps.join('')
}

// ---------------------------------------------------------------- typed encoding

const defineOwn = (target: object, key: PropertyKey, value: unknown): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // Assigning '__proto__' would call the inherited setter and change the prototype.
  if (key === '__proto__') defineOwn(target, key, value)
  else target[key] = value
}

/** The special numbers as written inside a boxed Number node. */
function numberToJson(n: number): number | string {
  if (n - n === 0) return n === 0 && 1 / n < 0 ? '-0' : n
  return n !== n ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity'
}

const bigintToHex = (b: bigint): string => (b < 0n ? `-${(-b).toString(16)}` : b.toString(16))

function errorName(e: object): string {
  const name = (e as { name?: unknown }).name
  switch (name) {
    case 'EvalError':
    case 'RangeError':
    case 'ReferenceError':
    case 'SyntaxError':
    case 'TypeError':
    case 'URIError':
      return name
    default:
      return 'Error'
  }
}

// Frame kinds: what a container on the work stack is, and so how its children are read and written.
const F_OBJECT = 0 // items: keys
const F_ARRAY = 1 // dense, no items
const F_HOLEY = 2 // items: indices that are present
const F_SPARSE = 3 // items: indices that are present
const F_MAP = 4 // items: key, value, key, value...
const F_SET = 5 // items: values

/**
 * A container whose children are being visited. Both codecs walk the value depth-first with an explicit stack of
 * frames instead of recursion, so deep values cannot overflow the call stack, and both meet nodes in the same order.
 */
interface Frame {
  kind: number
  /** The container being read: the source object (encoding) or the table node (decoding). */
  source: unknown
  /** The container being written: the table node (encoding) or the decoded object (decoding). */
  target: unknown
  items: unknown[]
  /** Next child to visit, and where to stop. */
  i: number
  end: number
  /** Depth of the children. */
  depth: number
  /** Array length (holey arrays), the length to restore (sparse decoding), or the pending Map key (decoding). */
  extra: unknown
}

const frame = (kind: number, source: unknown, target: unknown, items: unknown[], start: number, end: number, depth: number, extra: unknown): Frame => ({
  kind,
  source,
  target,
  items,
  i: start,
  end,
  depth,
  extra,
})

const NO_ITEMS: unknown[] = []

class Encoder {
  readonly table: unknown[] = []
  readonly #ids = new Map<unknown, number>()
  readonly #stack: Frame[] = []

  /** Encodes `value` into `table` and returns the root reference. */
  run(value: unknown): number {
    const root = this.#ref(value, 1)
    const stack = this.#stack
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!
      if (f.i < f.end) this.#step(f)
      else {
        if (f.kind === F_HOLEY) while ((f.target as unknown[]).length < (f.extra as number)) (f.target as unknown[]).push(HOLE)
        stack.pop()
      }
    }
    return root
  }

  #step(f: Frame): void {
    const i = f.i++
    const source = f.source as Record<string, unknown>
    const target = f.target as unknown[]
    switch (f.kind) {
      case F_OBJECT: {
        const key = f.items[i] as string
        setOwn(f.target as Record<string, unknown>, key, this.#ref(source[key], f.depth))
        return
      }
      case F_ARRAY:
        target.push(this.#ref((source as unknown as unknown[])[i], f.depth))
        return
      case F_HOLEY: {
        const index = f.items[i] as number
        while (target.length < index) target.push(HOLE)
        target.push(this.#ref((source as unknown as unknown[])[index], f.depth))
        return
      }
      case F_SPARSE: {
        const index = f.items[i] as number
        target.push(index, this.#ref((source as unknown as unknown[])[index], f.depth))
        return
      }
      default:
        target.push(this.#ref(f.items[i], f.depth))
    }
  }

  #ref(v: unknown, depth: number): number {
    switch (typeof v) {
      case 'number':
        if (v - v !== 0) return v !== v ? NAN : v > 0 ? POS_INF : NEG_INF
        if (v === 0 && 1 / v < 0) return NEG_ZERO
        return this.#primitive(v)
      case 'string':
      case 'boolean':
        return this.#primitive(v)
      case 'undefined':
        return UNDEFINED
      case 'bigint': {
        const known = this.#ids.get(v)
        if (known !== undefined) return known
        this.#ids.set(v, this.table.length)
        return this.table.push(['BigInt', bigintToHex(v)]) - 1
      }
      case 'object':
        return v === null ? this.#primitive(null) : this.#object(v, depth)
      case 'function':
        throw this.#fail('is a function; functions cannot be stored')
      default:
        throw this.#fail(`is a ${typeof v}; ${typeof v}s cannot be stored`)
    }
  }

  #primitive(v: string | number | boolean | null): number {
    const known = this.#ids.get(v)
    if (known !== undefined) return known
    this.#ids.set(v, this.table.length)
    return this.table.push(v) - 1
  }

  /** Makes the error for the child being visited, naming it by its path from the root. */
  #fail(what: string): CubbyError {
    const path: unknown[] = []
    for (const f of this.#stack) {
      const i = f.i - 1
      const item = f.items[i]
      switch (f.kind) {
        case F_OBJECT:
          path.push(PROP, item)
          break
        case F_ARRAY:
          path.push(INDEX, i)
          break
        case F_HOLEY:
        case F_SPARSE:
          path.push(INDEX, item)
          break
        case F_MAP:
          path.push(i % 2 === 0 ? MAP_KEY : MAP_VALUE, i % 2 === 0 ? i / 2 : f.items[i - 1])
          break
        default:
          path.push(SET_ITEM, i)
      }
    }
    return invalid(`${formatPath(path)} ${what}`)
  }

  #object(v: object, depth: number): number {
    const known = this.#ids.get(v)
    if (known !== undefined) return known
    if (depth > MAX_DEPTH) throw this.#fail(`is nested deeper than ${MAX_DEPTH} levels`)
    const index = this.table.push(null) - 1
    this.#ids.set(v, index)
    this.table[index] = this.#node(v, depth)
    return index
  }

  /** Makes the node of a new object; a container's node is filled later, from its frame. */
  #node(v: object, depth: number): unknown {
    if (Array.isArray(v)) return this.#array(v, depth)
    if (ArrayBuffer.isView(v)) return this.#view(v, depth)
    const tag = (objectToString.call(v) as string).slice(8, -1)
    switch (tag) {
      case 'Object': {
        const keys = Object.keys(v)
        return this.#push(F_OBJECT, v, {}, keys, keys.length, depth, undefined)
      }
      case 'Map': {
        if (tryBrand(mapSize, v) === NOT_BRANDED) return this.#fakeTag(tag)
        const items: unknown[] = []
        for (const [key, value] of Map.prototype.entries.call(v as Map<unknown, unknown>)) items.push(key, value)
        return this.#push(F_MAP, v, ['Map'], items, items.length, depth, undefined)
      }
      case 'Set': {
        if (tryBrand(setSize, v) === NOT_BRANDED) return this.#fakeTag(tag)
        const items = [...Set.prototype.values.call(v as Set<unknown>)]
        return this.#push(F_SET, v, ['Set'], items, items.length, depth, undefined)
      }
      case 'Error': {
        const message = Object.getOwnPropertyDescriptor(v, 'message')
        const name = errorName(v)
        return message !== undefined && 'value' in message ? ['Error', name, String(message.value)] : ['Error', name]
      }
      case 'Blob':
      case 'File':
        throw this.#fail(`is a ${tag}; store an ArrayBuffer instead`)
      default:
        return this.#leaf(v, tag)
    }
  }

  #push(kind: number, source: object, target: object, items: unknown[], end: number, depth: number, extra: unknown): object {
    this.#stack.push(frame(kind, source, target, items, 0, end, depth + 1, extra))
    return target
  }

  /** Objects that hold no references: read them through their brand-checking built-ins. */
  #leaf(v: object, tag: string): unknown {
    let data: unknown = NOT_BRANDED
    switch (tag) {
      case 'Date':
        data = tryBrand(Date.prototype.getTime as Method, v)
        return data === NOT_BRANDED ? this.#fakeTag(tag) : ['Date', data === data ? data : null]
      case 'RegExp':
        data = tryBrand(regExpSource, v)
        return data === NOT_BRANDED ? this.#fakeTag(tag) : ['RegExp', data, regExpFlags.call(v)]
      case 'ArrayBuffer':
        if (tryBrand(arrayBufferByteLength, v) === NOT_BRANDED) return this.#fakeTag(tag)
        return ['ArrayBuffer', toBase64(new Uint8Array(v as ArrayBuffer))]
      case 'Boolean':
        data = tryBrand(Boolean.prototype.valueOf as Method, v)
        return data === NOT_BRANDED ? this.#fakeTag(tag) : ['Boolean', data]
      case 'Number':
        data = tryBrand(Number.prototype.valueOf as Method, v)
        return data === NOT_BRANDED ? this.#fakeTag(tag) : ['Number', numberToJson(data as number)]
      case 'String':
        data = tryBrand(String.prototype.valueOf as Method, v)
        return data === NOT_BRANDED ? this.#fakeTag(tag) : ['String', data]
      case 'BigInt':
        data = tryBrand(BigInt.prototype.valueOf as Method, v)
        return data === NOT_BRANDED ? this.#fakeTag(tag) : ['BigIntObject', bigintToHex(data as bigint)]
      default:
        throw this.#fail(`is ${/^[AEIOU]/.test(tag) ? 'an' : 'a'} ${tag} object, which cannot be stored`)
    }
  }

  #fakeTag(tag: string): never {
    throw this.#fail(`claims to be a ${tag} (Symbol.toStringTag) but is not one, so it cannot be stored`)
  }

  #array(v: unknown[], depth: number): unknown {
    const n = v.length
    const keys = Object.keys(v)
    // Object.keys lists indices first, ascending, then other names; if key n - 1 is "n - 1", there are no holes.
    if (n === 0 || keys[n - 1] === String(n - 1)) return this.#push(F_ARRAY, v, [], NO_ITEMS, n, depth, undefined)
    const items: unknown[] = []
    for (let k = 0; k < keys.length && isIndexOf(keys[k]!, n); k++) items.push(Number(keys[k]))
    // Few holes: a dense node with -2 in them. More holes than elements: a Sparse node.
    if (items.length * 2 >= n) return this.#push(F_HOLEY, v, [], items, items.length, depth, n)
    return this.#push(F_SPARSE, v, ['Sparse', n], items, items.length, depth, undefined)
  }

  #view(v: ArrayBufferView, depth: number): unknown[] {
    const name = typedArrayName.call(v) as string | undefined
    const buffer = name === undefined ? dataViewBuffer.call(v) : typedArrayBuffer.call(v)
    if (objectToString.call(buffer) !== '[object ArrayBuffer]') throw this.#fail('is a view of a SharedArrayBuffer, which cannot be stored')
    // The buffer is part of the view, so it sits at the view's depth; it is a leaf, so this recursion is one level.
    const bufferRef = this.#object(buffer as ArrayBuffer, depth)
    return name === undefined
      ? ['DataView', bufferRef, dataViewByteOffset.call(v), dataViewByteLength.call(v)]
      : [name, bufferRef, typedArrayByteOffset.call(v), typedArrayLength.call(v)]
  }
}

/** Tells whether `key` (from Object.keys of an array of length `n`) is an array index. */
function isIndexOf(key: string, n: number): boolean {
  const i = Number(key)
  return i >= 0 && i < n && i % 1 === 0 && String(i) === key
}

// ---------------------------------------------------------------- base64

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_CODES = new Uint8Array(64)
const B64_VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++) {
  B64_CODES[i] = B64.charCodeAt(i)
  B64_VALUES[B64.charCodeAt(i)] = i
}
const PAD = 0x3d

function toBase64(bytes: Uint8Array): string {
  const n = bytes.length
  const out = new Uint8Array(Math.ceil(n / 3) * 4)
  let o = 0
  let i = 0
  for (; i + 2 < n; i += 3) {
    const x = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out[o++] = B64_CODES[x >>> 18]!
    out[o++] = B64_CODES[(x >>> 12) & 63]!
    out[o++] = B64_CODES[(x >>> 6) & 63]!
    out[o++] = B64_CODES[x & 63]!
  }
  if (i < n) {
    const x = (bytes[i]! << 16) | (i + 1 < n ? bytes[i + 1]! << 8 : 0)
    out[o++] = B64_CODES[x >>> 18]!
    out[o++] = B64_CODES[(x >>> 12) & 63]!
    out[o++] = i + 1 < n ? B64_CODES[(x >>> 6) & 63]! : PAD
    out[o++] = PAD
  }
  let s = ''
  // fromCharCode takes its codes as arguments; chunks keep the argument count well below engine limits.
  for (let c = 0; c < out.length; c += 0x8000) s += String.fromCharCode.apply(null, out.subarray(c, c + 0x8000) as unknown as number[])
  return s
}

const b64Value = (s: string, i: number): number => {
  const c = s.charCodeAt(i)
  return c < 128 ? B64_VALUES[c]! : -1
}

/** Decodes canonical padded base64, or returns undefined. */
function fromBase64(s: string): Uint8Array | undefined {
  const n = s.length
  if (n % 4 !== 0) return undefined
  const pad = n === 0 || s.charCodeAt(n - 1) !== PAD ? 0 : s.charCodeAt(n - 2) === PAD ? 2 : 1
  const out = new Uint8Array((n / 4) * 3 - pad)
  const full = pad === 0 ? n : n - 4
  let o = 0
  for (let i = 0; i < full; i += 4) {
    const a = b64Value(s, i)
    const b = b64Value(s, i + 1)
    const c = b64Value(s, i + 2)
    const d = b64Value(s, i + 3)
    if ((a | b | c | d) < 0) return undefined
    const x = (a << 18) | (b << 12) | (c << 6) | d
    out[o++] = x >>> 16
    out[o++] = (x >>> 8) & 255
    out[o++] = x & 255
  }
  if (pad === 0) return out
  const a = b64Value(s, full)
  const b = b64Value(s, full + 1)
  const c = pad === 1 ? b64Value(s, full + 2) : 0
  // The unused low bits must be zero, so that every byte string has exactly one encoding.
  if ((a | b | c) < 0 || (pad === 2 ? b & 15 : c & 3) !== 0) return undefined
  const x = (a << 18) | (b << 12) | (c << 6)
  out[o++] = x >>> 16
  if (pad === 1) out[o] = (x >>> 8) & 255
  return out
}

// ---------------------------------------------------------------- decoding

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw invalid('Encoded value is not valid JSON')
  }
}

/** Tells whether parsed JSON nests containers deeper than MAX_DEPTH (recursion stops at that depth). */
function isTooDeep(v: object, depth: number): boolean {
  if (depth > MAX_DEPTH) return true
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i]
      if (typeof x === 'object' && x !== null && isTooDeep(x, depth + 1)) return true
    }
    return false
  }
  // for-in allocates no key list; JSON.parse makes plain objects, so every key is an own one.
  for (const key in v) {
    const x = (v as Record<string, unknown>)[key]
    if (typeof x === 'object' && x !== null && isTooDeep(x, depth + 1)) return true
  }
  return false
}

const isCount = (n: unknown, max: number): n is number => typeof n === 'number' && n >= 0 && n <= max && n % 1 === 0

function errorConstructor(name: unknown): ErrorConstructor | undefined {
  switch (name) {
    case 'Error':
      return Error
    case 'EvalError':
      return EvalError
    case 'RangeError':
      return RangeError
    case 'ReferenceError':
      return ReferenceError
    case 'SyntaxError':
      return SyntaxError
    case 'TypeError':
      return TypeError
    case 'URIError':
      return URIError
    default:
      return undefined
  }
}

type ViewConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView
const float16Array = (globalThis as { Float16Array?: unknown }).Float16Array as ViewConstructor | undefined

function viewConstructor(name: string): ViewConstructor | undefined {
  switch (name) {
    case 'Int8Array':
      return Int8Array
    case 'Uint8Array':
      return Uint8Array
    case 'Uint8ClampedArray':
      return Uint8ClampedArray
    case 'Int16Array':
      return Int16Array
    case 'Uint16Array':
      return Uint16Array
    case 'Int32Array':
      return Int32Array
    case 'Uint32Array':
      return Uint32Array
    case 'Float16Array':
      return float16Array
    case 'Float32Array':
      return Float32Array
    case 'Float64Array':
      return Float64Array
    case 'BigInt64Array':
      return BigInt64Array
    case 'BigUint64Array':
      return BigUint64Array
    case 'DataView':
      return DataView
    default:
      return undefined
  }
}

function hexToBigint(s: unknown): bigint {
  if (typeof s !== 'string') throw invalid('A BigInt node must hold a string of hexadecimal digits')
  const start = s.charCodeAt(0) === 0x2d ? 1 : 0
  // Canonical only: lowercase digits, no leading zero, no "-0".
  let ok = s.length > start && (s.charCodeAt(start) !== 0x30 || s.length === 1)
  for (let i = start; ok && i < s.length; i++) {
    const c = s.charCodeAt(i)
    ok = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
  }
  if (!ok) throw invalid(`A BigInt node must hold canonical lowercase hexadecimal digits, got ${JSON.stringify(s.slice(0, 40))}`)
  const magnitude = BigInt(`0x${s.slice(start)}`)
  return start === 1 ? -magnitude : magnitude
}

function boxedNumber(n: unknown): number {
  if (typeof n === 'number') return n
  switch (n) {
    case 'NaN':
      return NaN
    case 'Infinity':
      return Infinity
    case '-Infinity':
      return -Infinity
    case '-0':
      return -0
    default:
      throw invalid('A Number node must hold a number or "NaN", "Infinity", "-Infinity" or "-0"')
  }
}

class Decoder {
  readonly #table: unknown[]
  /** Objects made so far, by table index; containers are put here before they are filled, for cycles. */
  readonly #made: unknown[]
  readonly #stack: Frame[] = []

  constructor(table: unknown[]) {
    this.#table = table
    this.#made = new Array<unknown>(table.length)
  }

  /** Decodes the whole table and returns the root. */
  run(): unknown {
    const root = this.#value(0, 1)
    const stack = this.#stack
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!
      if (f.i < f.end) this.#step(f)
      else {
        if (f.kind === F_SPARSE && f.extra !== undefined) (f.target as unknown[]).length = f.extra as number
        stack.pop()
      }
    }
    return root
  }

  #step(f: Frame): void {
    const i = f.i++
    const source = f.source as unknown[]
    switch (f.kind) {
      case F_OBJECT: {
        const key = f.items[i] as string
        setOwn(f.target as Record<string, unknown>, key, this.#value((f.source as Record<string, unknown>)[key], f.depth))
        return
      }
      case F_ARRAY: {
        const target = f.target as unknown[]
        const item = source[i]
        if (item === HOLE) target.length = i + 1
        else target.push(this.#value(item, f.depth))
        return
      }
      case F_MAP:
        // Keys are at odd positions of the node. The key is decoded (and its contents visited) before the value.
        if (i % 2 === 1) f.extra = this.#value(source[i], f.depth)
        else (f.target as Map<unknown, unknown>).set(f.extra, this.#value(source[i], f.depth))
        return
      case F_SET:
        ;(f.target as Set<unknown>).add(this.#value(source[i], f.depth))
        return
      default: {
        // F_SPARSE: an index at an even position, its reference after it.
        f.i++
        const index = source[i]
        if (!isCount(index, ((f.extra ?? (f.target as unknown[]).length) as number) - 1)) {
          throw invalid(`A Sparse node index must be an integer below its length, got ${JSON.stringify(index)?.slice(0, 40)}`)
        }
        defineOwn(f.target as unknown[], index, this.#value(source[i + 1], f.depth))
      }
    }
  }

  #value(ref: unknown, depth: number): unknown {
    if (typeof ref !== 'number' || !(ref >= NEG_ZERO && ref < this.#table.length) || ref % 1 !== 0) {
      throw invalid(`Reference ${JSON.stringify(ref)?.slice(0, 40)} is not an index into the table of ${this.#table.length} nodes or a sentinel`)
    }
    if (ref < 0) return sentinel(ref)
    const node = this.#table[ref]
    if (typeof node !== 'object' || node === null) return node
    const made = this.#made[ref]
    if (made !== undefined) return made
    const tagged = Array.isArray(node) && node.length > 0 && typeof node[0] === 'string'
    // A bigint is no object, so it does not count as a level.
    if (depth > MAX_DEPTH && !(tagged && node[0] === 'BigInt')) throw invalid(`The value is nested deeper than ${MAX_DEPTH} levels`)
    const value = tagged ? this.#tagged(ref, node as [string, ...unknown[]], depth) : this.#container(node, depth)
    this.#made[ref] = value
    return value
  }

  #container(node: object, depth: number): object {
    if (Array.isArray(node)) return this.#push(F_ARRAY, node, [], NO_ITEMS, 0, depth, undefined)
    return this.#push(F_OBJECT, node, {}, Object.keys(node), 0, depth, undefined)
  }

  /** Queues a container's children; `start` skips the tag (and the length of a Sparse node). */
  #push(kind: number, source: object, target: object, items: unknown[], start: number, depth: number, extra: unknown): object {
    const end = Array.isArray(source) ? source.length : items.length
    this.#stack.push(frame(kind, source, target, items, start, end, depth + 1, extra))
    return target
  }

  #tagged(ref: number, node: [string, ...unknown[]], depth: number): unknown {
    const tag = node[0]
    const arity = node.length - 1
    const a = node[1]
    const b = node[2]
    switch (tag) {
      case 'Map':
        if (arity % 2 !== 0) break
        return this.#push(F_MAP, node, new Map(), NO_ITEMS, 1, depth, undefined)
      case 'Set':
        return this.#push(F_SET, node, new Set(), NO_ITEMS, 1, depth, undefined)
      case 'Sparse': {
        if (!isCount(a, MAX_ARRAY_LENGTH) || arity % 2 !== 1) break
        const target: unknown[] = []
        // V8 allocates a slot per element when a small array's length grows; a huge length first keeps the
        // array in dictionary mode, so that holes cost nothing. The real length is set when it is filled.
        const huge = a > node.length + 16
        target.length = huge ? MAX_ARRAY_LENGTH : a
        return this.#push(F_SPARSE, node, target, NO_ITEMS, 2, depth, huge ? a : undefined)
      }
      case 'Date':
        if (arity !== 1 || (a !== null && typeof a !== 'number')) break
        return new Date(a ?? NaN)
      case 'RegExp':
        if (arity !== 2 || typeof a !== 'string' || typeof b !== 'string') break
        try {
          return new RegExp(a, b)
        } catch {
          throw invalid(`RegExp /${a.slice(0, 40)}/${b.slice(0, 10)} does not compile`)
        }
      case 'BigInt':
      case 'BigIntObject':
        if (arity !== 1) break
        return tag === 'BigInt' ? hexToBigint(a) : Object(hexToBigint(a))
      case 'Boolean':
        if (arity !== 1 || typeof a !== 'boolean') break
        return new Boolean(a)
      case 'Number':
        if (arity !== 1) break
        return new Number(boxedNumber(a))
      case 'String':
        if (arity !== 1 || typeof a !== 'string') break
        return new String(a)
      case 'Error':
        return makeError(node)
      case 'ArrayBuffer': {
        const bytes = arity === 1 && typeof a === 'string' ? fromBase64(a) : undefined
        if (bytes === undefined) throw invalid('An ArrayBuffer node must hold canonical padded base64')
        return bytes.buffer
      }
      default:
        return this.#view(node, depth)
    }
    throw invalid(`Malformed ${tag} node at table[${ref}]`)
  }

  #view(node: [string, ...unknown[]], depth: number): ArrayBufferView {
    const [tag, bufferRef, byteOffset, length] = node
    const View = viewConstructor(tag)
    if (View === undefined) {
      throw invalid(`Unknown node type ${JSON.stringify(tag.slice(0, 40))}${tag === 'Float16Array' ? ' (this runtime has no Float16Array)' : ''}`)
    }
    const bufferNode = typeof bufferRef === 'number' ? this.#table[bufferRef] : undefined
    // Checking the node first keeps the recursion flat: an ArrayBuffer node refers to nothing.
    if (node.length !== 4 || !Array.isArray(bufferNode) || bufferNode[0] !== 'ArrayBuffer') {
      throw invalid(`A ${tag} node must be [${JSON.stringify(tag)}, bufferIndex, byteOffset, length] naming an ArrayBuffer node`)
    }
    const buffer = this.#value(bufferRef, depth) as ArrayBuffer
    const size = View === DataView ? 1 : (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT
    if (!isCount(byteOffset, buffer.byteLength) || !isCount(length, buffer.byteLength) || byteOffset % size !== 0 || byteOffset + length * size > buffer.byteLength) {
      throw invalid(`A ${tag} of offset ${String(byteOffset)} and length ${String(length)} does not fit its ${buffer.byteLength}-byte buffer`)
    }
    return new View(buffer, byteOffset, length)
  }
}

function sentinel(ref: number): unknown {
  switch (ref) {
    case UNDEFINED:
      return undefined
    case NAN:
      return NaN
    case POS_INF:
      return Infinity
    case NEG_INF:
      return -Infinity
    case NEG_ZERO:
      return -0
    default:
      throw invalid('A hole (-2) may only stand in an array')
  }
}

function makeError(node: unknown[]): Error {
  const Ctor = errorConstructor(node[1])
  const message = node[2]
  if (Ctor === undefined || node.length > 3 || (node.length === 3 && typeof message !== 'string')) {
    throw invalid('An Error node must be ["Error", name, message?] with a standard Error name')
  }
  const error = node.length === 3 ? new Ctor(message as string) : new Ctor()
  // The stack would point at this decoder, not at where the error was made.
  delete error.stack
  return error
}

function decodeTyped(payload: unknown): unknown {
  if (typeof payload === 'number') {
    if (payload === HOLE || payload % 1 !== 0 || payload >= 0 || payload < NEG_ZERO) throw invalid('A bare root must be a sentinel (-1, -3, -4, -5 or -6)')
    return sentinel(payload)
  }
  if (!Array.isArray(payload) || payload.length === 0) throw invalid('A typed encoding must be ~ followed by a non-empty JSON array')
  return new Decoder(payload).run()
}

// ---------------------------------------------------------------- API

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
  const encoder = new Encoder()
  const root = encoder.run(value)
  return root < 0 ? `~${root}` : `~${JSON.stringify(encoder.table)}`
}

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
    const value = parseJson(encoded)
    // JSON.parse itself takes any depth. Depth 1001 needs at least 2002 characters, so short values skip the walk.
    if (encoded.length > 2 * MAX_DEPTH + 1 && typeof value === 'object' && value !== null && isTooDeep(value, 1)) {
      throw invalid(`The value is nested deeper than ${MAX_DEPTH} levels`)
    }
    return value
  }
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

import { defineOwn, F_ARRAY, F_MAP, F_OBJECT, F_SET, F_SPARSE, type Frame, frame, NO_ITEMS, setOwn } from './frames.js'
import type { CubbyError } from '../CubbyError.js'
import { fromBase64 } from './base64.js'
import { ERRORS, HOLE, invalid, MAX_ARRAY_LENGTH, MAX_DEPTH, NEG_ZERO } from './shared.js'

/** Decoding: parses and checks untrusted encodings; anything wrong is CubbyError INVALID_VALUE, never another error. */

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw invalid('Encoded value is not valid JSON')
  }
}

/** Tells whether parsed JSON nests containers deeper than MAX_DEPTH (recursion stops at that depth). */
export function isTooDeep(v: object, depth: number): boolean {
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

type ViewConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView

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

/** Malformed nodes all get this one message: the code is the contract, and the node is easy to find. */
const malformed = (tag: string, ref: number): CubbyError => invalid(`Malformed ${tag} node at table[${ref}]`)

/** Reads canonical hexadecimal digits only (lowercase, no leading zero, no "-0"), or returns undefined. */
function hexToBigint(s: unknown): bigint | undefined {
  if (typeof s !== 'string' || !/^(0|-?[1-9a-f][0-9a-f]*)$/.test(s)) return undefined
  const magnitude = BigInt(`0x${s.replace('-', '')}`)
  return s.charCodeAt(0) === 0x2d ? -magnitude : magnitude
}

/** Boxed numbers that JSON cannot write, by the strings that stand for them. */
const SPECIAL_NUMBERS: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0 }

function boxedNumber(n: unknown): number | undefined {
  if (typeof n === 'number') return n
  return typeof n === 'string' && Object.hasOwn(SPECIAL_NUMBERS, n) ? SPECIAL_NUMBERS[n] : undefined
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
          throw invalid(`Sparse node index ${JSON.stringify(index)?.slice(0, 40)} is not below its length`)
        }
        defineOwn(f.target as unknown[], index, this.#value(source[i + 1], f.depth))
      }
    }
  }

  #value(ref: unknown, depth: number): unknown {
    if (typeof ref !== 'number' || !(ref >= NEG_ZERO && ref < this.#table.length) || ref % 1 !== 0) {
      throw invalid(`Reference ${JSON.stringify(ref)?.slice(0, 40)} is neither a table index nor a sentinel`)
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
      case 'BigIntObject': {
        const n = arity === 1 ? hexToBigint(a) : undefined
        if (n === undefined) break
        return tag === 'BigInt' ? n : Object(n)
      }
      case 'Boolean':
        if (arity !== 1 || typeof a !== 'boolean') break
        return new Boolean(a)
      case 'Number': {
        const n = arity === 1 ? boxedNumber(a) : undefined
        if (n === undefined) break
        return new Number(n)
      }
      case 'String':
        if (arity !== 1 || typeof a !== 'string') break
        return new String(a)
      case 'Error': {
        const error = makeError(node)
        if (error === undefined) break
        return error
      }
      case 'ArrayBuffer': {
        const bytes = arity === 1 && typeof a === 'string' ? fromBase64(a) : undefined
        if (bytes === undefined) break
        return bytes.buffer
      }
      default:
        return this.#view(ref, node, depth)
    }
    throw malformed(tag, ref)
  }

  /** A view node names its ArrayBuffer node, at an offset and for a length that fit it. */
  #view(ref: number, node: [string, ...unknown[]], depth: number): ArrayBufferView {
    const [tag, bufferRef, byteOffset, length] = node
    const View = Object.hasOwn(VIEWS, tag) ? VIEWS[tag] : undefined
    if (View === undefined) {
      throw invalid(`Unknown node type ${JSON.stringify(tag.slice(0, 40))}${tag === 'Float16Array' ? ' (this runtime has no Float16Array)' : ''}`)
    }
    const bufferNode = typeof bufferRef === 'number' ? this.#table[bufferRef] : undefined
    // Checking the node first keeps the recursion flat: an ArrayBuffer node refers to nothing.
    if (node.length !== 4 || !Array.isArray(bufferNode) || bufferNode[0] !== 'ArrayBuffer') throw malformed(tag, ref)
    const buffer = this.#value(bufferRef, depth) as ArrayBuffer
    const size = View === DataView ? 1 : (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT
    if (!isCount(byteOffset, buffer.byteLength) || !isCount(length, buffer.byteLength) || byteOffset % size !== 0 || byteOffset + length * size > buffer.byteLength) {
      throw malformed(tag, ref)
    }
    return new View(buffer, byteOffset, length)
  }
}

/** The values of the sentinels -1 to -6, by -1 - ref; -2 (a hole) has none. */
const SENTINELS: readonly unknown[] = [undefined, undefined, NaN, Infinity, -Infinity, -0]

function sentinel(ref: number): unknown {
  if (ref === HOLE) throw invalid('A hole (-2) may only stand in an array')
  return SENTINELS[-1 - ref]
}

/** Makes the error of an Error node, or returns undefined for a malformed one. */
function makeError(node: unknown[]): Error | undefined {
  const name = node[1]
  const Ctor = typeof name === 'string' && Object.hasOwn(ERRORS, name) ? ERRORS[name] : undefined
  const message = node[2]
  if (Ctor === undefined || node.length > 3 || (node.length === 3 && typeof message !== 'string')) return undefined
  const error = node.length === 3 ? new Ctor(message as string) : new Ctor()
  // The stack would point at this decoder, not at where the error was made.
  delete error.stack
  return error
}

export function decodeTyped(payload: unknown): unknown {
  if (typeof payload === 'number') {
    if (payload === HOLE || payload % 1 !== 0 || payload >= 0 || payload < NEG_ZERO) throw invalid('A bare root must be a sentinel other than -2')
    return sentinel(payload)
  }
  if (!Array.isArray(payload) || payload.length === 0) throw invalid('A typed encoding must be ~ followed by a non-empty JSON array')
  return new Decoder(payload).run()
}

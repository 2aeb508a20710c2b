import type { CubbyError } from '../CubbyError.js'
import { toBase64 } from './base64.js'
import { ERRORS, HOLE, invalid, MAX_DEPTH, NAN, NEG_INF, NEG_ZERO, POS_INF, UNDEFINED, setOwn } from './shared.js'

/** The typed encoding: walks any structured-cloneable value into the flat table described in ../valueCodec.ts. */

// The built-ins below are taken unbound on purpose: each is called with .call(v) as a brand check.
/* eslint-disable @typescript-eslint/unbound-method */
type Method = (this: unknown) => unknown
/** Brand checks go through the built-in getters, which a Symbol.toStringTag or a fake prototype cannot fool. */
const getter = (proto: object, key: PropertyKey): Method => (Object.getOwnPropertyDescriptor(proto, key) as { get: Method }).get
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
const typedArrayName = getter(TypedArrayPrototype, Symbol.toStringTag)
const objectToString = Object.prototype.toString as Method

/** Objects that hold no references, by tag: the brand-checking built-in that reads them, and their node. */
const LEAVES: Record<string, [Method, (data: never, v: object) => unknown[]]> = {
  Date: [Date.prototype.getTime, (t: number) => ['Date', t === t ? t : null]],
  RegExp: [getter(RegExp.prototype, 'source'), (source: string, v) => ['RegExp', source, getter(RegExp.prototype, 'flags').call(v)]],
  ArrayBuffer: [getter(ArrayBuffer.prototype, 'byteLength'), (_: number, v) => ['ArrayBuffer', toBase64(new Uint8Array(v as ArrayBuffer))]],
  Boolean: [Boolean.prototype.valueOf, (b: boolean) => ['Boolean', b]],
  Number: [Number.prototype.valueOf, (n: number) => ['Number', n - n === 0 ? (n === 0 && 1 / n < 0 ? '-0' : n) : String(n)]],
  String: [String.prototype.valueOf, (s: string) => ['String', s]],
  BigInt: [BigInt.prototype.valueOf, (b: bigint) => ['BigIntObject', hex(b)]],
  Map: [getter(Map.prototype, 'size'), () => ['Map']],
  Set: [getter(Set.prototype, 'size'), () => ['Set']],
}

const hex = (b: bigint): string => (b < 0n ? `-${(-b).toString(16)}` : b.toString(16))

/** One step of a path such as `value.items[3].onClick`: `.` for a property, else a prefix closed by `]` (or `)`). */
function formatStep(kind: string, key: unknown): string {
  if (kind === '.') return /^[A-Za-z_$][\w$]*$/.test(key as string) ? `.${key as string}` : `[${JSON.stringify(key)}]`
  if (kind !== '.get(') return `${kind}${key as number}]`
  // A Map key as it would be written in code, shortened; objects only as `<object>`.
  return `.get(${typeof key === 'string' ? JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key) : typeof key === 'bigint' ? `${key}n` : Object(key) === key ? '<object>' : String(key)})`
}

/** Tells whether `key` (from Object.keys of an array of length `n`) is an array index. */
function isIndexOf(key: string, n: number): boolean {
  const i = Number(key)
  return i >= 0 && i < n && i % 1 === 0 && String(i) === key
}

/**
 * Encodes `value` into the typed table and returns the root reference (a sentinel, or 0) with the table.
 * The walk is depth-first, numbering nodes in order of first reach; it recurses at most {@link MAX_DEPTH}
 * containers deep, as the JSON fast path does.
 */
export function encodeTyped(value: unknown): [root: number, table: unknown[]] {
  const table: unknown[] = []
  const ids = new Map<unknown, number>()
  /** (kind, key) pairs from the root down to the child being visited, for error messages. */
  const path: unknown[] = []

  const fail = (what: string): CubbyError => {
    const steps = ['value']
    for (let i = 0; i < path.length; i += 2) steps.push(formatStep(path[i] as string, path[i + 1]))
    // Long paths keep their two ends.
    return invalid(`${steps.length > 24 ? `${steps.slice(0, 12).join('')}…${steps.slice(-11).join('')}` : steps.join('')} ${what}`)
  }

  const add = (key: unknown, node: unknown = key): number => {
    ids.set(key, table.length)
    return table.push(node) - 1
  }

  /** Visits a child: `kind` and `key` name it in error messages. */
  const child = (kind: string, key: unknown, v: unknown, depth: number): number => {
    path.push(kind, key)
    const r = ref(v, depth)
    path.length -= 2
    return r
  }

  const ref = (v: unknown, depth: number): number => {
    switch (typeof v) {
      case 'number':
        if (v - v !== 0) return v !== v ? NAN : v > 0 ? POS_INF : NEG_INF
        return v === 0 && 1 / v < 0 ? NEG_ZERO : (ids.get(v) ?? add(v))
      case 'string':
      case 'boolean':
        return ids.get(v) ?? add(v)
      case 'undefined':
        return UNDEFINED
      case 'bigint':
        return ids.get(v) ?? add(v, ['BigInt', hex(v)])
      case 'object':
        return ids.get(v) ?? (v === null ? add(v) : object(v, depth))
      case 'function':
        throw fail('is a function; functions cannot be stored')
      case 'symbol':
        throw fail(`is a ${typeof v}; ${typeof v}s cannot be stored`)
    }
  }

  /** A new object: its index is taken before its contents are visited, so that cycles refer back to it. */
  const object = (v: object, depth: number): number => {
    if (depth > MAX_DEPTH) throw fail(`is nested deeper than ${MAX_DEPTH} levels`)
    const index = add(v, null)
    table[index] = Array.isArray(v) ? array(v, depth + 1) : ArrayBuffer.isView(v) ? view(v, depth) : other(v, depth + 1)
    return index
  }

  const array = (v: unknown[], depth: number): unknown[] => {
    const n = v.length
    const keys = Object.keys(v)
    const out: unknown[] = []
    // Object.keys lists indices first, ascending, then other names; if key n - 1 is "n - 1", there are no holes.
    if (keys.length === n && (n === 0 || keys[n - 1] === String(n - 1))) {
      for (let i = 0; i < n; i++) out.push(child('[', i, v[i], depth))
      return out
    }
    const items: number[] = []
    let k = 0
    for (; k < keys.length && isIndexOf(keys[k]!, n); k++) items.push(Number(keys[k]))
    // Other own properties (`a.note = 'x'`, a RegExp match's `index`): an Array node of (index, ref) pairs,
    // then (name, ref) pairs.
    if (k < keys.length) {
      out.push('Array', n)
      for (const i of items) out.push(i, child('[', i, v[i], depth))
      for (; k < keys.length; k++) out.push(keys[k], child('.', keys[k], (v as unknown as Record<string, unknown>)[keys[k]!], depth))
      return out
    }
    // More holes than elements: a Sparse node of (index, ref) pairs. Fewer: a dense node with -2 in the holes.
    if (items.length * 2 < n) {
      out.push('Sparse', n)
      for (const i of items) out.push(i, child('[', i, v[i], depth))
      return out
    }
    for (const i of items) {
      while (out.length < i) out.push(HOLE)
      out.push(child('[', i, v[i], depth))
    }
    while (out.length < n) out.push(HOLE)
    return out
  }

  const view = (v: ArrayBufferView, depth: number): unknown[] => {
    const name = typedArrayName.call(v) as string | undefined
    const proto = name === undefined ? DataView.prototype : TypedArrayPrototype
    const buffer = getter(proto, 'buffer').call(v) as object
    if (objectToString.call(buffer) !== '[object ArrayBuffer]') throw fail('is a view of a SharedArrayBuffer')
    // The buffer is part of the view, so it sits at the view's depth; it is a leaf, so this recursion is one level.
    const bufferRef = ids.get(buffer) ?? object(buffer, depth)
    return [name ?? 'DataView', bufferRef, getter(proto, 'byteOffset').call(v), getter(proto, name === undefined ? 'byteLength' : 'length').call(v)]
  }

  /** Any other object: a plain object or class instance, a Map or Set, an Error, or a leaf by its tag. */
  const other = (v: object, depth: number): unknown => {
    const tag = (objectToString.call(v) as string).slice(8, -1)
    if (tag === 'Object') {
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(v)) setOwn(out, key, child('.', key, (v as Record<string, unknown>)[key], depth))
      return out
    }
    if (tag === 'Error') {
      const message = Object.getOwnPropertyDescriptor(v, 'message')
      const name = (v as { name?: unknown }).name
      const node = ['Error', typeof name === 'string' && Object.hasOwn(ERRORS, name) ? name : 'Error']
      if (message !== undefined && 'value' in message) node.push(String(message.value))
      return node
    }
    if (tag === 'Blob' || tag === 'File') throw fail(`is a ${tag}; store an ArrayBuffer instead`)
    const leaf = Object.hasOwn(LEAVES, tag) ? LEAVES[tag] : undefined
    if (leaf === undefined) throw fail(`is ${/^[AEIOU]/.test(tag) ? 'an' : 'a'} ${tag} object`)
    let data: unknown
    try {
      data = leaf[0].call(v)
    } catch {
      throw fail(`claims to be a ${tag} but is not one`)
    }
    const node = leaf[1](data as never, v)
    if (tag === 'Map') {
      let i = 0
      for (const [key, value] of [...Map.prototype.entries.call(v as Map<unknown, unknown>)]) {
        node.push(child('.keys()[', i++, key, depth), child('.get(', key, value, depth))
      }
    } else if (tag === 'Set') {
      let i = 0
      for (const item of [...Set.prototype.values.call(v as Set<unknown>)]) node.push(child('.values()[', i++, item, depth))
    }
    return node
  }

  return [ref(value, 1), table]
}

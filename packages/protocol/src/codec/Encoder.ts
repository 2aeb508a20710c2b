import { CubbyError } from '../CubbyError.js'
import { toBase64 } from './base64.js'
import { F_ARRAY, F_HOLEY, F_MAP, F_OBJECT, F_SET, F_SPARSE, type Frame, frame, NO_ITEMS, setOwn } from './frames.js'
import { arrayBufferByteLength, dataViewBuffer, dataViewByteLength, dataViewByteOffset, mapSize, type Method, NOT_BRANDED, objectToString, regExpFlags, regExpSource, setSize, tryBrand, typedArrayBuffer, typedArrayByteOffset, typedArrayLength, typedArrayName } from './brands.js'
import { ERRORS, HOLE, invalid, MAX_DEPTH, NAN, NEG_INF, NEG_ZERO, POS_INF, UNDEFINED } from './shared.js'
import { formatPath, INDEX, MAP_KEY, MAP_VALUE, PROP, SET_ITEM } from './valuePath.js'

/** The typed encoding: walks any structured-cloneable value into the flat table described in ../valueCodec.ts. */


/** The special numbers as written inside a boxed Number node. */
function numberToJson(n: number): number | string {
  if (n - n === 0) return n === 0 && 1 / n < 0 ? '-0' : n
  return n !== n ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity'
}

const bigintToHex = (b: bigint): string => (b < 0n ? `-${(-b).toString(16)}` : b.toString(16))

function errorName(e: object): string {
  const name = (e as { name?: unknown }).name
  return typeof name === 'string' && Object.hasOwn(ERRORS, name) ? name : 'Error'
}


export class Encoder {
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

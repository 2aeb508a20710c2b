import { describe, expect, it } from 'vitest'
import { isCubbyError } from './CubbyError.js'
import { decodeValue, encodeValue, isJsonEncoding } from './valueCodec.js'

const roundTrip = <T>(value: T): T => decodeValue(encodeValue(value)) as T

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

function expectInvalid(fn: () => unknown, message?: string | RegExp): void {
  const e = thrown(fn)
  expect(isCubbyError(e, 'INVALID_VALUE'), String(e)).toBe(true)
  if (message !== undefined) expect((e as Error).message).toMatch(message)
}

/** Nests `inner` in `levels` containers made by `wrap`. */
function nest(levels: number, wrap: (inner: unknown) => unknown, inner: unknown = 1): unknown {
  let value = inner
  for (let i = 0; i < levels; i++) value = wrap(value)
  return value
}

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  get length(): number {
    return Math.hypot(this.x, this.y)
  }
}

const Float16 = (globalThis as { Float16Array?: new (values: number[]) => ArrayBufferView }).Float16Array

describe('encodeValue and decodeValue', () => {
  const battery: [string, () => unknown][] = [
    ['a Date', () => new Date(1_700_000_000_123)],
    ['an invalid Date', () => new Date(NaN)],
    ['a RegExp with every flag', () => /a+(?<x>b)\u{1F600}/dgimsuy],
    ['a RegExp with lastIndex set', () => Object.assign(/x/g, { lastIndex: 3 })],
    ['a Map with keys of every kind', () => new Map<unknown, unknown>([[{ k: 1 }, 'object'], [NaN, 'nan'], [-0, 'zero'], [undefined, 1n], ['s', new Date(0)]])],
    ['a Set', () => new Set<unknown>([1, '1', { one: 1 }, [1], undefined, null])],
    ['bigints', () => [0n, 1n, -1n, 255n, -(2n ** 64n), 2n ** 1000n + 7n]],
    ['boxed primitives', (): unknown[] => [Object(false), Object(true), new Number(-0), new Number(NaN), new Number(-Infinity), new Number(2.5), new String(''), new String('\ud800x'), Object(-12n)]],
    ['standard errors', () => [new Error('e'), new EvalError('ev'), new RangeError('r'), new ReferenceError('rf'), new SyntaxError('s'), new TypeError('t'), new URIError('u')]],
    ['an error without a message', () => new TypeError()],
    ['an error of a subclass', () => new (class MyError extends RangeError {})('sub')],
    ['an error with a custom name', () => Object.assign(new Error('m'), { name: 'Custom' })],
    ['ArrayBuffers of every small size', () => Array.from({ length: 8 }, (_, n) => Uint8Array.from({ length: n }, (_, i) => (i * 97 + n) & 255).buffer)],
    ['every typed array', () => [
      new Int8Array([-128, 0, 127]),
      new Uint8Array([0, 255]),
      new Uint8ClampedArray([0, 128, 255]),
      new Int16Array([-32768, 32767]),
      new Uint16Array([65535]),
      new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
      new Uint32Array([2 ** 32 - 1]),
      new Float32Array([1.5, -0, NaN, Infinity]),
      new Float64Array([Math.PI, -0, NaN, -Infinity, Number.MIN_VALUE]),
      new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
      new BigUint64Array([2n ** 64n - 1n]),
    ]],
    ['a DataView', () => new DataView(new Uint8Array([1, 2, 3, 4, 5]).buffer, 1, 3)],
    ['plain objects', () => ({ a: 1, nested: { b: [true, null, 'x'] }, 2: 'two', 1: 'one', z: -0 })],
    ['a null-prototype object', () => Object.assign(Object.create(null) as object, { a: 1, u: undefined })],
    ['a class instance', () => new Point(3, 4)],
    ['a sparse array', () => [1, , 3, , ,]],
    ['an array with more holes than elements', () => Object.assign(new Array(100), { 3: 'x', 97: undefined })],
    ['undefined members', () => ({ a: undefined, b: [undefined], c: new Map([[undefined, undefined]]) })],
    ['special numbers', () => [-0, NaN, Infinity, -Infinity, Number.MAX_VALUE, -Number.MIN_VALUE]],
    ['strings with lone surrogates and NUL', () => ['\ud800', '\udc00x', 'a\u0000b', '\u2028\u2029', '😀'.slice(0, 1), '~', '~[0]']],
    ['an object with a __proto__ own key', () => Object.defineProperty({ a: new Date(0) }, '__proto__', { value: { polluted: 1 }, enumerable: true, writable: true, configurable: true })],
    ['undefined', () => undefined],
    ['NaN', () => NaN],
    ['-0', () => -0],
    ['Infinity', () => Infinity],
    ['-Infinity', () => -Infinity],
    ['a bigint', () => -5n],
    ['a string', () => 'plain'],
    ['null', () => null],
  ]

  it.each(battery)('round-trips %s like structuredClone', (_name, make) => {
    const value = make()
    expect(roundTrip(value)).toStrictEqual(structuredClone(value))
  })

  it('keeps holes in sparse arrays', () => {
    const arrays = [[1, , 3], Object.assign(new Array(1000), { 500: 'x' })]
    for (const array of arrays) {
      const out = roundTrip(array)
      expect(out.length).toBe(array.length)
      for (let i = 0; i < array.length; i++) expect(i in out).toBe(i in array)
    }
    const huge: unknown[] = []
    huge[2 ** 32 - 2] = 'last'
    const out = roundTrip(huge)
    expect(out.length).toBe(2 ** 32 - 1)
    expect(out[2 ** 32 - 2]).toBe('last')
    expect(0 in out).toBe(false)
  })

  it('keeps undefined as a value and as a member', () => {
    expect(encodeValue(undefined)).toBe('~-1')
    expect(roundTrip(undefined)).toBeUndefined()
    const out = roundTrip({ a: undefined, b: 1 })
    expect('a' in out).toBe(true)
    expect(Object.keys(out)).toEqual(['a', 'b'])
    const array = roundTrip([undefined])
    expect(0 in array).toBe(true)
  })

  it('keeps -0, NaN and the infinities', () => {
    for (const n of [-0, NaN, Infinity, -Infinity]) {
      expect(Object.is(roundTrip(n), n)).toBe(true)
      expect(Object.is(roundTrip([n])[0], n)).toBe(true)
      expect(Object.is(roundTrip(new Number(n)).valueOf(), n)).toBe(true)
    }
    expect(Object.is(roundTrip({ z: -0 }).z, -0)).toBe(true)
  })

  it('keeps the prototypes of built-in types', () => {
    const pairs: [unknown, object][] = [
      [new Map(), Map.prototype],
      [new Set(), Set.prototype],
      [new Date(0), Date.prototype],
      [/x/, RegExp.prototype],
      [new ArrayBuffer(2), ArrayBuffer.prototype],
      [new DataView(new ArrayBuffer(2)), DataView.prototype],
      [new Uint16Array(2), Uint16Array.prototype],
      [new TypeError('t'), TypeError.prototype],
      [new Boolean(true), Boolean.prototype],
      [new Point(1, 2), Object.prototype],
      [Object.create(null), Object.prototype],
      [[new Map()], Array.prototype],
    ]
    for (const [value, proto] of pairs) expect(Object.getPrototypeOf(roundTrip(value))).toBe(proto)
  })

  it('copies class instances as plain objects with own enumerable keys in order', () => {
    const out = roundTrip(Object.assign(new Point(3, 4), { when: new Date(0) }))
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.keys(out)).toEqual(['x', 'y', 'when'])
    expect('length' in out).toBe(false)
  })

  it('drops the stack of errors and keeps their type and message', () => {
    const out = roundTrip(new SyntaxError('bad'))
    expect(out).toBeInstanceOf(SyntaxError)
    expect(out.name).toBe('SyntaxError')
    expect(out.message).toBe('bad')
    expect(Object.prototype.toString.call(out)).toBe('[object Error]')
    expect(Object.hasOwn(roundTrip(new Error()), 'message')).toBe(false)
  })

  it('keeps cycles and shared references', () => {
    const shared = { n: 1 }
    const o: Record<string, unknown> = { x: shared, y: shared, list: [shared] }
    o.self = o
    const out = roundTrip(o) as typeof o & { x: object; list: object[] }
    expect(out.self).toBe(out)
    expect(out.x).toBe(out.y)
    expect(out.list[0]).toBe(out.x)
    const array: unknown[] = []
    array.push(array, array)
    const outArray = roundTrip(array)
    expect(outArray[0]).toBe(outArray)
    expect(outArray[1]).toBe(outArray)
  })

  it('keeps identity between a Map key and a Set item', () => {
    const key = { id: 1 }
    const out = roundTrip({ map: new Map([[key, 'v']]), set: new Set([key]) })
    const [mapKey] = out.map.keys()
    const [setItem] = out.set
    expect(mapKey).toBe(setItem)
    expect(out.map.get(setItem!)).toBe('v')
  })

  it('keeps a cycle through a Map value and a Set', () => {
    const map = new Map<string, unknown>()
    const set = new Set<unknown>()
    map.set('me', map).set('set', set)
    set.add(map).add(set)
    const out = roundTrip(map)
    expect(out.get('me')).toBe(out)
    const outSet = out.get('set') as Set<unknown>
    expect(outSet.has(out)).toBe(true)
    expect(outSet.has(outSet)).toBe(true)
  })

  it('keeps views that share one ArrayBuffer sharing it', () => {
    const buffer = new ArrayBuffer(16)
    const bytes = new Uint8Array(buffer, 2, 8)
    const words = new Uint32Array(buffer, 4, 2)
    const view = new DataView(buffer, 1)
    words[0] = 0xdeadbeef
    const out = roundTrip({ buffer, bytes, words, view })
    expect(out.bytes.buffer).toBe(out.buffer)
    expect(out.words.buffer).toBe(out.buffer)
    expect(out.view.buffer).toBe(out.buffer)
    expect([out.bytes.byteOffset, out.bytes.length, out.words.byteOffset, out.words.length]).toEqual([2, 8, 4, 2])
    expect([out.view.byteOffset, out.view.byteLength]).toEqual([1, 15])
    out.words[1] = 7
    expect(out.bytes[6]).toBe(7)
    expect(out.words[0]).toBe(0xdeadbeef)
  })

  it('copies the whole buffer of a view, as structuredClone does', () => {
    const out = roundTrip(new Uint8Array(new Uint8Array([9, 8, 7, 6]).buffer, 3, 1))
    expect(out.buffer.byteLength).toBe(4)
    expect([...new Uint8Array(out.buffer)]).toEqual([9, 8, 7, 6])
  })

  it.runIf(Float16 !== undefined)('round-trips a Float16Array', () => {
    const value = new Float16!([1.5, -2, 65504])
    expect(roundTrip(value)).toStrictEqual(structuredClone(value))
  })

  it('writes ArrayBuffers as the same base64 as Node', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 151 + n * 7) & 255)
      const encoded = encodeValue(bytes.buffer)
      expect(encoded).toBe(`~${JSON.stringify([['ArrayBuffer', Buffer.from(bytes).toString('base64')]])}`)
      expect(new Uint8Array(decodeValue(encoded) as ArrayBuffer)).toEqual(bytes)
    }
    const large = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) & 255)
    expect(new Uint8Array(roundTrip(large.buffer))).toEqual(large)
  })

  it('keeps own "__proto__" keys as data without touching prototypes', () => {
    const o = JSON.parse('{"__proto__":{"polluted":1},"b":{"__proto__":[1]}}') as Record<string, unknown>
    for (const value of [o, [o, o], { o, d: new Date(0) }]) {
      const out = roundTrip(value)
      const copy = (Array.isArray(out) ? out[0] : 'o' in out ? out.o : out) as Record<string, unknown>
      expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
      expect(Object.hasOwn(copy, '__proto__')).toBe(true)
      expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: 1 })
      expect(copy.polluted).toBeUndefined()
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('keeps the order of keys and of Map and Set entries', () => {
    const value = { b: 1, a: undefined, 10: 'ten', 2: 'two', m: new Map([['z', 1], ['a', 2]]), s: new Set(['z', 'a']) }
    const out = roundTrip(value)
    expect(Object.keys(out)).toEqual(Object.keys(value))
    expect([...out.m.keys()]).toEqual(['z', 'a'])
    expect([...out.s]).toEqual(['z', 'a'])
  })
})

describe('the JSON fast path', () => {
  const jsonValues: unknown[] = [
    null,
    true,
    0,
    -1.5e300,
    'text with "quotes", \\ and \u0000 and \ud800',
    [],
    {},
    [1, 'two', [3, [4]], { five: null }],
    { __proto__: null, a: 1 },
    JSON.parse('{"__proto__":{"x":1}}'),
    { deep: nest(998, (inner) => [inner]) },
  ]

  it.each(jsonValues.map((v) => [JSON.stringify(v).slice(0, 40), v]))('encodes %s as exactly JSON.stringify', (_name, value) => {
    const encoded = encodeValue(value)
    expect(encoded).toBe(JSON.stringify(value))
    expect(isJsonEncoding(encoded)).toBe(true)
    expect(decodeValue(encoded)).toStrictEqual(JSON.parse(encoded))
  })

  it.each([
    ['-0', -0],
    ['NaN', NaN],
    ['an undefined member', { a: undefined }],
    ['a hole', [1, , 2]],
    ['a Date', { when: new Date(0) }],
    ['a class instance', new Point(1, 2)],
    ['an object reached twice', (() => { const o = {}; return [o, o] })()],
    ['a bigint', 1n],
  ])('leaves the fast path for %s', (_name, value) => {
    const encoded = encodeValue(value)
    expect(encoded.startsWith('~')).toBe(true)
    expect(isJsonEncoding(encoded)).toBe(false)
  })

  it('decodes hand-written JSON', () => {
    expect(decodeValue(' { "a" : [1, 2.5e3, "x"] } ')).toEqual({ a: [1, 2500, 'x'] })
    expect(decodeValue('"~not typed"')).toBe('~not typed')
  })

  it('writes the typed encoding in the documented shape', () => {
    expect(encodeValue(new Set([1n]))).toBe('~[["Set",1],["BigInt","1"]]')
    expect(encodeValue({ d: new Date(0), u: undefined, n: [NaN, -0, 'x', 'x'], s: [1, , 2] })).toBe(
      '~[{"d":1,"u":-1,"n":2,"s":4},["Date",0],[-3,-6,3,3],"x",[5,-2,6],1,2]',
    )
    expect(encodeValue(Object.assign([], { 5: true }))).toBe('~[["Sparse",6,5,1],true]')
    expect(encodeValue(Object.assign(['a'], { note: 'x' }))).toBe('~[["Array",1,0,1,"note",2],"a","x"]')
    expect(encodeValue(new Uint8Array([1, 2]))).toBe('~[["Uint8Array",1,0,2],["ArrayBuffer","AQI="]]')
    expect(encodeValue([new Error('m'), -255n, new Number(NaN)])).toBe('~[[1,2,3],["Error","Error","m"],["BigInt","-ff"],["Number","NaN"]]')
  })
})

describe("arrays' own named properties", () => {
  it.each([
    ['a named property', Object.assign([1, 2], { note: 'x' })],
    ['an empty array with one', Object.assign([], { note: { deep: [1] } })],
    ['holes and names', Object.assign([1, , 3], { a: undefined, '-1': 1, '01': 2, '4294967295': 3, __proto__x: 4 })],
    ['a sparse array with a name', Object.assign(Object.assign([], { 1000: 1 }), { tag: 't' })],
    ['a RegExp match', /b(c)/.exec('abc')],
    ['an own __proto__', Object.defineProperty([1], '__proto__', { value: 2, enumerable: true, writable: true, configurable: true })],
  ])('keeps %s as structuredClone does', (_name, value) => {
    const encoded = encodeValue(value)
    expect(encoded.startsWith('~')).toBe(true)
    const decoded = decodeValue(encoded)
    expect(decoded).toStrictEqual(structuredClone(value))
    expect(Object.keys(decoded as object)).toEqual(Object.keys(structuredClone(value) as object))
    expect(Object.getPrototypeOf(decoded)).toBe(Array.prototype)
  })

  it('keeps the encoding of arrays without them', () => {
    expect(encodeValue([1, [2, 'x']])).toBe('[1,[2,"x"]]')
    expect(encodeValue([1, , 3])).toBe('~[[1,-2,2],1,3]')
  })

  it('keeps a cycle through a named property', () => {
    const a: unknown[] & { self?: unknown } = [1]
    a.self = a
    const decoded = decodeValue(encodeValue(a)) as typeof a
    expect(decoded.self).toBe(decoded)
  })
})

describe('rejections', () => {
  it.each([
    ['a function', { items: [0, 1, 2, { onClick() {} }] }, 'value.items[3].onClick is a function; functions cannot be stored'],
    ['a symbol', { s: Symbol('s') }, 'value.s is a symbol'],
    ['a WeakMap', [new WeakMap()], 'value[0] is a WeakMap object'],
    ['a WeakSet', new WeakSet(), 'value is a WeakSet object'],
    ['a WeakRef', { ref: new WeakRef({}) }, 'value.ref is a WeakRef object'],
    ['a Promise', { 'odd key': Promise.resolve() }, 'value["odd key"] is a Promise object'],
    ['a generator', { g: (function* () {})() }, 'value.g is a Generator object'],
    // eslint-disable-next-line prefer-rest-params -- the case is a real arguments object
    ['an arguments object', (function () { return { args: arguments } })(), 'value.args is an Arguments object'],
    ['a Blob', { file: new Blob(['x']) }, 'value.file is a Blob; store an ArrayBuffer instead'],
    ['a File', { file: new File(['x'], 'x.txt') }, 'value.file is a File; store an ArrayBuffer instead'],
    ['a SharedArrayBuffer', { sab: new SharedArrayBuffer(4) }, 'value.sab is a SharedArrayBuffer object'],
    ['a view of a SharedArrayBuffer', new Uint8Array(new SharedArrayBuffer(4)), 'value is a view of a SharedArrayBuffer'],
    ['a Map value', new Map([['k', () => 1]]), 'value.get("k") is a function'],
    ['a Map key', new Map([[Symbol.iterator, 1]]), 'value.keys()[0] is a symbol'],
    ['a Set item', { s: new Set([1, new WeakMap()]) }, 'value.s.values()[1] is a WeakMap object'],
    ['a sparse array item', Object.assign([], { 7: () => 1 }), 'value[7] is a function'],
    ['a function at the root', () => 1, 'value is a function'],
    ['a fake Date', new (class { readonly [Symbol.toStringTag] = 'Date' })(), 'value claims to be a Date'],
    ['a plain object with a foreign tag', { inner: { [Symbol.toStringTag]: 'Generator' } }, 'value.inner is a Generator object'],
  ])('rejects %s, naming where it is', (_name, value, message) => {
    expectInvalid(() => encodeValue(value), message)
  })

  it('rejects 5000 levels of nesting with INVALID_VALUE instead of a RangeError', () => {
    for (const wrap of [(v: unknown) => [v], (v: unknown) => ({ v }), (v: unknown) => new Map([[1, v]]), (v: unknown) => [v, undefined]]) {
      expectInvalid(() => encodeValue(nest(5000, wrap)), /nested deeper than 1000 levels/)
    }
  })

  it('accepts 1000 levels and rejects 1001, in both encodings', () => {
    for (const inner of [1, undefined]) {
      expect(roundTrip(nest(1000, (v) => [v], inner))).toStrictEqual(nest(1000, (v) => [v], inner))
      expectInvalid(() => encodeValue(nest(1001, (v) => [v], inner)))
    }
    expectInvalid(() => decodeValue(`${'['.repeat(1001)}${']'.repeat(1001)}`), /nested deeper/)
    expect(decodeValue(`${'['.repeat(1000)}${']'.repeat(1000)}`)).toStrictEqual(nest(999, (v) => [v], []))
  })
})

/** A typed table nested `levels` deep: each array holds the next. */
const deepTable = (levels: number): string => `~[${Array.from({ length: levels }, (_, i) => (i === levels - 1 ? '[]' : `[${i + 1}]`)).join(',')}]`

describe('decoding hostile input', () => {
  const hostile: string[] = [
    '',
    '~',
    '~[',
    '{',
    'undefined',
    "{'a':1}",
    '{"a":1}x',
    '\u0000',
    '~{}',
    '~[]',
    '~"text"',
    '~null',
    '~0',
    '~1.5',
    '~-2',
    '~-7',
    '~[[1]]',
    '~[[-7]]',
    '~[[0.5]]',
    '~[[1e400]]',
    '~[{"a":"0"}]',
    '~[{"a":null}]',
    '~[{"a":-2}]',
    '~[["Set",-2]]',
    '~[["Unknown"]]',
    '~[["__proto__",1]]',
    '~[["constructor"]]',
    '~[["toString",0,0,0]]',
    '~[["Map",1]]',
    '~[["Map",0,1,2]]',
    '~[["Date"]]',
    '~[["Date","1970"]]',
    '~[["Date",0,1]]',
    '~[["RegExp","(","g"]]',
    '~[["RegExp","a","gg"]]',
    '~[["RegExp","a"]]',
    '~[["RegExp",1,""]]',
    '~[["BigInt","12g"]]',
    '~[["BigInt",""]]',
    '~[["BigInt","-"]]',
    '~[["BigInt","-0"]]',
    '~[["BigInt","007"]]',
    '~[["BigInt","FF"]]',
    '~[["BigInt"," 1"]]',
    '~[["BigInt",12]]',
    '~[["BigIntObject","x"]]',
    '~[["Boolean",1]]',
    '~[["Number","1"]]',
    '~[["Number",null]]',
    '~[["String",1]]',
    '~[["String"]]',
    '~[["Error","EvilError","x"]]',
    '~[["Error","__proto__"]]',
    '~[["Error","Error",1]]',
    '~[["Error","Error","a","b"]]',
    '~[["Error"]]',
    '~[["ArrayBuffer","A"]]',
    '~[["ArrayBuffer","A==="]]',
    '~[["ArrayBuffer","AB=="]]',
    '~[["ArrayBuffer","AAB="]]',
    '~[["ArrayBuffer","@@@@"]]',
    '~[["ArrayBuffer","QQ=A"]]',
    '~[["ArrayBuffer","AA\u00e9A"]]',
    // atob alone would take these (no padding, whitespace); the codec takes only canonical base64.
    '~[["ArrayBuffer","AAA"]]',
    '~[["ArrayBuffer","AA AA"]]',
    '~[["ArrayBuffer","AA\\tA="]]',
    '~[["ArrayBuffer",5]]',
    '~[["ArrayBuffer"]]',
    '~[["Uint8Array",1,0,5],["ArrayBuffer","AAAA"]]',
    '~[["Uint16Array",1,1,1],["ArrayBuffer","AAAA"]]',
    '~[["Float64Array",1,0,1],["ArrayBuffer","AAAA"]]',
    '~[["Uint8Array",0,0,0]]',
    '~[["Uint8Array",1,0,0],{}]',
    '~[["Uint8Array",1,0,0],["Uint8Array",0,0,0]]',
    '~[["Uint8Array",9,0,0]]',
    '~[["Uint8Array",1,-1,0],["ArrayBuffer",""]]',
    '~[["Uint8Array",1,0,1.5],["ArrayBuffer","AAAA"]]',
    '~[["Uint8Array",1,0],["ArrayBuffer","AAAA"]]',
    '~[["DataView",1,0,4],["ArrayBuffer","AAAA"]]',
    '~[["DataView",1,4,0],["ArrayBuffer",""]]',
    '~[["Sparse",4294967296]]',
    '~[["Sparse",-1]]',
    '~[["Sparse",1.5]]',
    '~[["Sparse"]]',
    '~[["Sparse",3,3,1],1]',
    '~[["Sparse",3,"foo",1],1]',
    '~[["Sparse",3,"length",1],1]',
    '~[["Sparse",3,0]]',
    '~[["Sparse",3,0,-2]]',
    '~[["Sparse",3,-1,0]]',
    '~[["Array",3,"length",1],5]',
    '~[["Array",3,"2",1],5]',
    '~[["Array",3,"4294967294",1],5]',
    '~[["Array",3,3,1],5]',
    '~[["Array",3,null,1],5]',
    '~[["Array",3,"a"]]',
    deepTable(1001),
    deepTable(5000),
    `${'['.repeat(5000)}${']'.repeat(5000)}`,
    `${'{"a":'.repeat(1001)}1${'}'.repeat(1001)}`,
  ]

  it.each(hostile.map((s) => [s.length > 60 ? `${s.slice(0, 40)}… (${s.length} chars)` : JSON.stringify(s), s]))('rejects %s with INVALID_VALUE', (_name, encoded) => {
    expectInvalid(() => decodeValue(encoded))
  })

  it('never pollutes prototypes', () => {
    const attacks = [
      '{"__proto__":{"polluted":1}}',
      '~[{"__proto__":1},{"polluted":1}]',
      '~[{"__proto__":0}]',
      '~[{"constructor":1},{"prototype":2},{"polluted":1}]',
      '~[["Map",1,2],"__proto__",{"polluted":1}]',
      '~[["Sparse",1,0,1],{"polluted":1}]',
      '~[{"a":1,"b":1},{"__proto__":2},{"polluted":1}]',
    ]
    for (const attack of attacks) {
      const out = decodeValue(attack) as Record<string, unknown>
      expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(out) === Map.prototype ? Map.prototype : Array.isArray(out) ? Array.prototype : Object.prototype)
      expect(out.polluted).toBeUndefined()
    }
    const self = decodeValue('~[{"__proto__":0}]') as Record<string, unknown>
    expect(Object.getOwnPropertyDescriptor(self, '__proto__')?.value).toBe(self)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('does not allocate the holes of sparse arrays', () => {
    // 2000 arrays of a million holes would need 16 GB if the holes were allocated.
    const out = decodeValue(`~[[${Array.from({ length: 2000 }, (_, i) => i + 1).join(',')}]${',["Sparse",1000000]'.repeat(2000)}]`) as unknown[][]
    expect(out).toHaveLength(2000)
    expect(out[1999]).toHaveLength(1_000_000)
    expect(0 in out[1999]!).toBe(false)
    expect((decodeValue('~[["Sparse",4294967295,4294967294,1],1]') as unknown[]).length).toBe(2 ** 32 - 1)
  })

  it('decodes a table as deep as the limit', () => {
    expect(decodeValue(deepTable(1000))).toStrictEqual(nest(999, (v) => [v], []))
  })

  it('throws nothing but INVALID_VALUE for mangled encodings', () => {
    const buffer = new ArrayBuffer(8)
    const map = new Map<unknown, unknown>([[{ k: 1 }, new Set([1n, 'x'])]])
    const sample = encodeValue({ map, a: [1, , new Date(0), /x/g, -0], b: new Uint16Array(buffer, 2, 2), c: new DataView(buffer), e: new RangeError('r'), s: Object.assign([], { 9: 1 }) })
    const alphabet = '[]{},:"-0123456789~eE.tfnul\\aSparseDateMapSetBigIntArrayBuffer'
    let seed = 42
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    const outcomes = { refused: 0, decoded: 0 }
    for (let round = 0; round < 3000; round++) {
      const chars = [...sample]
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(chars.length)
        const op = random(3)
        if (op === 0) chars.splice(at, 1)
        else if (op === 1) chars.splice(at, 0, alphabet[random(alphabet.length)]!)
        else chars[at] = alphabet[random(alphabet.length)]!
      }
      const mangled = chars.join('')
      let decoded: unknown
      try {
        decoded = decodeValue(mangled)
      } catch (e) {
        expect(isCubbyError(e, 'INVALID_VALUE'), `${String(e)} for ${mangled}`).toBe(true)
        outcomes.refused++
        continue
      }
      // An edit that still decodes gave a real value: it encodes and decodes back to itself.
      expect(roundTrip(decoded), mangled).toStrictEqual(decoded)
      outcomes.decoded++
    }
    // Most edits break the encoding, some leave it valid: both branches above ran, and often.
    expect(outcomes.refused).toBeGreaterThan(1000)
    expect(outcomes.decoded).toBeGreaterThan(10)
  })
})

describe('isJsonEncoding', () => {
  it('tells the JSON encoding from the typed one', () => {
    expect(isJsonEncoding(encodeValue({ a: 1 }))).toBe(true)
    expect(isJsonEncoding(encodeValue('~'))).toBe(true)
    expect(isJsonEncoding(encodeValue(new Date(0)))).toBe(false)
    expect(isJsonEncoding(encodeValue(undefined))).toBe(false)
  })
})

/** Values of every kind structuredClone accepts, for device-to-device round trips. */
export function structuredCloneBattery(): Record<string, unknown> {
  const cyclic: Record<string, unknown> = { name: 'loop' }
  cyclic.self = cyclic
  const shared = { shared: true }
  const buffer = new ArrayBuffer(16)
  new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
  const sparse: unknown[] = [1, , 3]
  sparse[10] = 'far'
  return {
    string: 'héllo wörld \u0000 \ud83d\ude00 lone\ud800',
    emptyString: '',
    number: 42.5,
    negativeZero: -0,
    nan: NaN,
    infinity: Infinity,
    minusInfinity: -Infinity,
    bigint: 12345678901234567890123456789n,
    negativeBigint: -1n,
    boolTrue: true,
    nullValue: null,
    // `undefined` itself is refused (use delete): it travels inside a value.
    undefinedInArray: [undefined, 1],
    date: new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 123)),
    invalidDate: new Date(NaN),
    regexp: /a[b-z]+\/\d*$/giu,
    map: new Map<unknown, unknown>([['a', 1], [2, { nested: [1, 2] }], [null, undefined]]),
    set: new Set<unknown>([1, 'two', 3n, null]),
    arrayBuffer: buffer.slice(0),
    uint8: new Uint8Array([0, 127, 255]),
    int8: new Int8Array([-128, 0, 127]),
    uint8Clamped: new Uint8ClampedArray([0, 255]),
    int16: new Int16Array([-32768, 32767]),
    uint16: new Uint16Array([65535]),
    int32: new Int32Array([-2147483648, 2147483647]),
    uint32: new Uint32Array([4294967295]),
    float32: new Float32Array([1.5, -0, NaN]),
    float64: new Float64Array([Math.PI, -Infinity]),
    bigInt64: new BigInt64Array([-(2n ** 63n)]),
    bigUint64: new BigUint64Array([2n ** 64n - 1n]),
    viewsOnOneBuffer: [new Uint8Array(buffer, 4, 4), new DataView(buffer, 8, 8)],
    sparse,
    arrayWithProperties: Object.assign([1, , 3], { note: 'kept', match: /b(c)/.exec('abc') }),
    objectWithUndefined: { a: undefined, b: 1 },
    nested: { deep: { deeper: { deepest: [1, { x: [new Map([[1, new Set([2])]])] }] } } },
    cyclic,
    sharedTwice: { left: shared, right: shared },
    boxed: [Object(false), Object(1.5), Object('str')],
    error: new RangeError('out of range'),
    protoKey: JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
  }
}

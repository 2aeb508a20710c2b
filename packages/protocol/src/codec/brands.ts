

/** Brand checks through the built-in getters, which cannot be fooled by Symbol.toStringTag or a fake prototype. */

export type Method = (this: unknown) => unknown
const getter = (proto: object, key: PropertyKey): Method => Object.getOwnPropertyDescriptor(proto, key)!.get as Method
const TypedArrayPrototype: object = Object.getPrototypeOf(Uint8Array.prototype) as object
export const typedArrayName: Method = getter(TypedArrayPrototype, Symbol.toStringTag)
export const typedArrayBuffer: Method = getter(TypedArrayPrototype, 'buffer')
export const typedArrayByteOffset: Method = getter(TypedArrayPrototype, 'byteOffset')
export const typedArrayLength: Method = getter(TypedArrayPrototype, 'length')
export const dataViewBuffer: Method = getter(DataView.prototype, 'buffer')
export const dataViewByteOffset: Method = getter(DataView.prototype, 'byteOffset')
export const dataViewByteLength: Method = getter(DataView.prototype, 'byteLength')
export const arrayBufferByteLength: Method = getter(ArrayBuffer.prototype, 'byteLength')
export const mapSize: Method = getter(Map.prototype, 'size')
export const setSize: Method = getter(Set.prototype, 'size')
export const regExpSource: Method = getter(RegExp.prototype, 'source')
export const regExpFlags: Method = getter(RegExp.prototype, 'flags')
export const objectToString: Method = Object.prototype.toString as Method

export const NOT_BRANDED: unique symbol = Symbol('not branded')

/** Calls a built-in method that throws a TypeError unless `v` has the right internal slot. */
export function tryBrand(method: Method, v: object): unknown {
  try {
    return method.call(v)
  } catch {
    return NOT_BRANDED
  }
}

import { invalid, MAX_DEPTH } from './shared.js'

/** The JSON encoding: values that JSON.stringify round-trips exactly are encoded by it, and decoded by JSON.parse. */

// Taken unbound on purpose: called with .call(v) as a brand check.
// eslint-disable-next-line @typescript-eslint/unbound-method
const objectToString = Object.prototype.toString

/** Tells whether `v` is a string, a boolean or a finite number other than -0. */
export function isJsonPrimitive(v: unknown): boolean {
  if (typeof v === 'string' || typeof v === 'boolean') return true
  // v - v is 0 only for finite numbers; 1 / -0 is -Infinity.
  return typeof v === 'number' && v - v === 0 && (v !== 0 || 1 / v > 0)
}

/** One walk that tells whether `JSON.stringify(v)` round-trips `v` exactly, identity included. */
export function isPlainJson(v: object, depth: number, seen: Set<object>): boolean {
  if (depth > MAX_DEPTH) return false
  const size = seen.size
  // One hash lookup instead of has() then add(): the set grows unless v was reached before.
  if (seen.add(v).size === size) return false
  const proto: unknown = Object.getPrototypeOf(v)
  if (proto === Array.prototype) {
    if (!Array.isArray(v)) return false
    // Named own properties (`a.note = 'x'`) are lost by JSON; Object.keys lists them after the n indices.
    if (v.length === 0 ? Object.keys(v).length > 0 : Object.keys(v).length !== v.length) return false
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

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw invalid('Encoded value is not valid JSON')
  }
}

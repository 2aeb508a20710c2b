

/** Base64 without platform APIs (the protocol package uses neither DOM nor Node). */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_CODES = new Uint8Array(64)
const B64_VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++) {
  B64_CODES[i] = B64.charCodeAt(i)
  B64_VALUES[B64.charCodeAt(i)] = i
}
const PAD = 0x3d

export function toBase64(bytes: Uint8Array): string {
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
export function fromBase64(s: string): Uint8Array | undefined {
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

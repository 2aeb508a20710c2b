/**
 * Base64 through `atob` and `btoa`, globals of every browser and of Node since 16 (declared here because the
 * protocol package takes neither the DOM nor the Node types).
 */
declare function atob(data: string): string
declare function btoa(data: string): string

export function toBase64(bytes: Uint8Array): string {
  let s = ''
  // fromCharCode takes its codes as arguments; chunks keep the argument count well below engine limits.
  for (let c = 0; c < bytes.length; c += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(c, c + 0x8000) as unknown as number[])
  return btoa(s)
}

/** Decodes canonical padded base64, or returns undefined. */
export function fromBase64(s: string): Uint8Array | undefined {
  let binary: string
  try {
    binary = atob(s)
  } catch {
    return undefined
  }
  // atob also takes whitespace, missing padding and nonzero unused bits; btoa writes the one canonical form.
  if (btoa(binary) !== s) return undefined
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < out.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/**
 * Tells whether JSON text nests arrays and objects deeper than `max`, by one scan of its characters and without
 * parsing it. `JSON.parse` takes any depth, and deep nesting is its slow case (a 4 MiB `[[[[…]]]]` costs it over a
 * second), so untrusted text is scanned first: the scan costs about a millisecond per 4 MiB and stops at the first
 * container past `max`. Text that is not JSON may pass; `JSON.parse` rejects it after. Public (never tagged internal)
 * because @cubby/server imports it from the package entry.
 */
export function isJsonDeeperThan(text: string, max: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // A string: brackets in it do not count. Skip to its closing quote, stepping over escapes.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i)
        if (s === 0x5c) i++
        else if (s === 0x22) break
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}

import { utf8Length, type Change } from '@cubby/protocol'

/** Room for the JSON around a change: braces, field names, the rev. */
const CHANGE_OVERHEAD = 48

const sizeOf = (c: Change): number =>
  CHANGE_OVERHEAD + ('key' in c ? utf8Length(c.key) : 0) + ('value' in c ? utf8Length(c.value) : 0)

/**
 * Splits changes into runs of at most about `maxBytes` of JSON each (a single larger change gets its own run),
 * so that no `changes` frame grows past what a client accepts. Keys and values are counted as UTF-8, so the
 * escaping JSON adds (control characters, quotes) can make a frame somewhat larger.
 * @internal
 */
export function chunkChanges(changes: readonly Change[], maxBytes: number): Change[][] {
  const chunks: Change[][] = []
  let chunk: Change[] = []
  let bytes = 0
  for (const change of changes) {
    const size = sizeOf(change)
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk)
      chunk = []
      bytes = 0
    }
    chunk.push(change)
    bytes += size
  }
  if (chunk.length > 0) chunks.push(chunk)
  return chunks
}

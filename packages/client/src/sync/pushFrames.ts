import { MAX_MUTATIONS_PER_PUSH, utf8Length } from '@cubby/protocol'
import type { OutboxEntry } from '../cache/CubbyCache.js'

/**
 * Turns outbox entries into `push` frames, in order: one run of entries per client id and atomic batch, split at
 * {@link MAX_MUTATIONS_PER_PUSH} mutations or `maxFrameBytes`. A single mutation larger than that still goes
 * (alone), since the server accepts any frame up to its own limit.
 *
 * @internal
 */
export function pushFrames(entries: Iterable<OutboxEntry>, maxFrameBytes: number): string[] {
  const frames: string[] = []
  let clientId: string | undefined
  let batch: OutboxEntry['batch']
  let last = false
  let parts: string[] = []
  // While `exact` is false, `bytes` is an upper bound (a UTF-16 unit is at most 3 bytes of UTF-8), so far below
  // the limit no part is counted; near it, the frame's parts are counted once and every later part exactly.
  let bytes = 0
  let exact = false
  const flush = (): void => {
    // The frames of an atomic batch name it; the one with its final write says it is the last.
    const marker = batch === undefined ? '' : `,"batch":${JSON.stringify(last ? { id: batch.id, last: true } : { id: batch.id })}`
    if (parts.length > 0) frames.push(`{"type":"push","clientId":${JSON.stringify(clientId)},"mutations":[${parts.join(',')}]${marker}}`)
    parts = []
    bytes = 0
    exact = false
    last = false
  }
  for (const entry of entries) {
    const part = JSON.stringify(entry.mutation)
    if (entry.clientId !== clientId || entry.batch?.id !== batch?.id || parts.length >= MAX_MUTATIONS_PER_PUSH) flush()
    clientId = entry.clientId
    batch = entry.batch
    if (!exact && bytes + 3 * part.length + 1 > maxFrameBytes) {
      bytes = parts.reduce((sum, p) => sum + utf8Length(p) + 1, 0)
      exact = true
    }
    const size = exact ? utf8Length(part) + 1 : 3 * part.length + 1
    if (exact && bytes + size > maxFrameBytes) flush()
    parts.push(part)
    bytes += exact ? size : 3 * part.length + 1
    if (entry.batch?.last === true) last = true
  }
  flush()
  return frames
}

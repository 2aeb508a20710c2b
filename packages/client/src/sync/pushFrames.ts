import { MAX_MUTATIONS_PER_PUSH, utf8Length } from '@cubby/protocol'
import type { OutboxEntry } from '../cache/CubbyCache.js'

/**
 * Turns outbox entries into `push` frames, in order: one run of entries per client id, split at
 * {@link MAX_MUTATIONS_PER_PUSH} mutations or `maxFrameBytes`. A single mutation larger than that still goes
 * (alone), since the server accepts any frame up to its own limit.
 *
 * @internal
 */
export function pushFrames(entries: Iterable<OutboxEntry>, maxFrameBytes: number): string[] {
  const frames: string[] = []
  let clientId: string | undefined
  let parts: string[] = []
  let bytes = 0
  const flush = (): void => {
    if (parts.length > 0) frames.push(`{"type":"push","clientId":${JSON.stringify(clientId)},"mutations":[${parts.join(',')}]}`)
    parts = []
    bytes = 0
  }
  for (const entry of entries) {
    const part = JSON.stringify(entry.mutation)
    const size = utf8Length(part) + 1
    if (entry.clientId !== clientId || parts.length >= MAX_MUTATIONS_PER_PUSH || bytes + size > maxFrameBytes) flush()
    clientId = entry.clientId
    parts.push(part)
    bytes += size
  }
  flush()
  return frames
}

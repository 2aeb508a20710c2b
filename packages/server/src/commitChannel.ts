import { channel } from 'node:diagnostics_channel'
import type { MutationResult } from '@cubby/protocol'

/** The name of the diagnostics channel on which the server announces its committed writes. */
const COMMIT_CHANNEL = 'cubby:commit'

const commits = channel(COMMIT_CHANNEL)

/**
 * Announces on the `cubby:commit` diagnostics channel how many of a commit's results are applied writes (one
 * message per push frame or server call, whatever the storage; refused writes do not count). Published only while
 * someone subscribes: the CLI does, to size V8's young generation by the write load (apps/server/src/leanHeap.ts).
 * Unwatched, it costs one property read.
 * @internal
 */
export function announceCommit(results: readonly MutationResult[]): void {
  if (!commits.hasSubscribers) return
  let applied = 0
  for (const result of results) if (!('error' in result)) applied++
  if (applied > 0) commits.publish(applied)
}

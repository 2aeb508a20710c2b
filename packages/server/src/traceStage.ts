import { channel } from 'node:diagnostics_channel'

/**
 * A stage of one write on the server's hot path, from its frame to the frames it causes:
 * `frame` (a frame arrived), `validated` (parsed and validated), `queued` (its commit queued), `batch-start`
 * and `batch-durable` (the synced batch that holds it), `changes` and `ack` (that frame handed to a socket).
 * @internal
 */
export type Stage = 'frame' | 'validated' | 'queued' | 'batch-start' | 'batch-durable' | 'changes' | 'ack'

/**
 * The `cubby:stage` diagnostics channel: each stage of each write, as `{ stage, t }` (`t`: `performance.now()`),
 * published only while someone subscribes (the benchmark's stage timeline does, through a preload). Unwatched,
 * a stage costs one property read.
 * @internal
 */
const stageChannel = channel('cubby:stage')

/** Publishes a stage, if anyone listens. @internal */
export function traceStage(stage: Stage): void {
  if (stageChannel.hasSubscribers) stageChannel.publish({ stage, t: performance.now() })
}

// The server's stage timeline of single writes: what lib/stageTrace.cjs recorded in a cubby-server process,
// as medians in µs from each push frame's arrival.
import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The preload to start a cubby-server with (`--require`) to record its stages. */
export const STAGE_TRACE = fileURLToPath(new URL('./stageTrace.cjs', import.meta.url))

/** The stages after a push frame arrives, in the order one write passes them (see traceStage.ts). */
export const STAGES = ['validated', 'queued', 'batch-start', 'batch-durable', 'changes', 'ack']

/**
 * Reads and removes what the preload wrote for process `pid`, and returns the median µs from the frame to each
 * stage over the writes after the first `skip` (a write counts only when it passed every stage), and `n`.
 */
export async function readStageMedians(pid, skip) {
  const file = join(tmpdir(), `cubby-stages-${pid}.json`)
  const flat = JSON.parse(await readFile(file, 'utf8'))
  await rm(file, { force: true })
  const rows = []
  let row
  for (let i = 0; i < flat.length; i += 2) {
    const [stage, t] = [flat[i], flat[i + 1]]
    if (stage === 'frame') rows.push((row = { t0: t }))
    else if (row !== undefined && row[stage] === undefined) row[stage] = (t - row.t0) * 1000
  }
  const complete = rows.filter((r) => STAGES.every((s) => r[s] !== undefined)).slice(skip)
  const median = (s) => {
    const v = complete.map((r) => r[s]).sort((a, b) => a - b)
    return v[v.length >> 1]
  }
  return { n: complete.length, ...Object.fromEntries(STAGES.map((s) => [s, median(s)])) }
}

import { subscribe } from 'node:diagnostics_channel'
import { setFlagsFromString } from 'node:v8'

/** How often the write load is looked at, in ms. */
const TICK_MS = 250
/**
 * Committed writes per tick from which the server counts as write-heavy (2,000/s): where scavenges of a 1 MiB
 * young generation start to cost the write path (docs/benchmarks.md, "Fan-out").
 */
const HEAVY_WRITES_PER_TICK = 500

/**
 * Keeps V8's young generation at its initial size (1 MiB per semi-space) while the server is not write-heavy,
 * unless the operator sized it with `--max-semi-space-size` or `--semi-space-growth-factor` (on the command line
 * or in NODE_OPTIONS).
 *
 * By default V8 doubles the young generation (up to 16 MiB per semi-space) whenever enough objects survive its
 * scavenges, and never gives the memory back while the process is idle. A burst of connecting clients grows it to
 * the maximum, so an idle sync server kept 32 MiB of young generation that 2,000 sockets needed none of: about
 * half of its memory per idle connection (docs/benchmarks.md, "Idle connections"). A sync server's objects are
 * mostly long-lived (sessions) or die at once (frames), so a small young generation costs it little time, except
 * under a heavy write load: there every frame, commit and change in flight survives a scavenge or two, and the
 * scavenges took a quarter of the server's time. So while the server commits more than 2,000 writes a second
 * (counted on the `cubby:commit` diagnostics channel, see packages/server/src/commitChannel.ts), V8 may grow the
 * young generation as it would by default; once the load falls it stops growing again (what it grew to is kept).
 *
 * Imported first by the CLI, before the server's modules are loaded, so that loading them does not grow it either.
 * The growth factor is read at every growth, which is why it can still be set after V8 has started.
 */
function keepYoungGenerationSmall(): void {
  const given = [...process.execArgv, process.env['NODE_OPTIONS'] ?? '']
  if (given.some((arg) => /--(max-semi-space-size|semi-space-growth-factor)\b/.test(arg))) return
  setFlagsFromString('--semi-space-growth-factor=1')
  let written = 0
  let growing = false
  subscribe('cubby:commit', (mutations) => {
    written += mutations as number
  })
  setInterval(() => {
    const heavy = written >= HEAVY_WRITES_PER_TICK
    written = 0
    if (heavy === growing) return
    growing = heavy
    setFlagsFromString(`--semi-space-growth-factor=${heavy ? 2 : 1}`)
  }, TICK_MS).unref()
}

keepYoungGenerationSmall()

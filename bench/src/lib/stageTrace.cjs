// Preloaded (--require) into a cubby-server process by the propagation workload's stage timeline: records the
// server's `cubby:stage` diagnostics channel (see packages/server/src/traceStage.ts) and writes it, as a
// flat [stage, t, stage, t, ...] array, to <tmpdir>/cubby-stages-<pid>.json when the process exits.
const dc = require('node:diagnostics_channel')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

/** Bounded: at 7 stages a write, room for the timed writes of any run and more. */
const MAX_EVENTS = 400_000
const events = []
dc.subscribe('cubby:stage', ({ stage, t }) => {
  if (events.length < MAX_EVENTS) events.push(stage, t)
})
process.on('exit', () => fs.writeFileSync(path.join(os.tmpdir(), `cubby-stages-${process.pid}.json`), JSON.stringify(events)))

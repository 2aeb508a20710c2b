// The curves of `--only curves`: which metric each one plots, a Markdown table per curve (medians over runs, and
// the log-log slope between neighbouring points) and an SVG plot per curve. Results are kept as
// results.add('curves', series, `${curve} @ ${x}`, unit, value), so a saved run can be plotted again.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { linePlot, tickLabel } from './svgPlot.js'

const WORKLOAD = 'curves'

/**
 * Every curve: `id` (the metric's prefix and the SVG's name), what it shows, and whether a flat line (per-unit
 * metrics: slope 0) or a slope of 1 (totals) is what linear cost looks like; `'base'`: a total over the process's
 * fixed base (RSS), whose slope stays below 1 even where the growth is linear.
 */
const CURVES = [
  { id: 'cold-ms', title: 'Cold sync: time until a fresh client holds every key', xLabel: 'keys of the user', yLabel: 'ms', logY: true, total: true },
  { id: 'cold-rss', title: 'Cold sync from a just-restarted server: server RSS', xLabel: 'keys of the user', yLabel: 'MiB', logY: true, total: 'base' },
  { id: 'fanout-rate', title: 'Fan-out: writes/s until every device has its partner\'s keys', xLabel: 'users (2 devices each)', yLabel: 'writes/s', total: false },
  { id: 'fanout-cpu', title: 'Fan-out: server CPU per acknowledged write', xLabel: 'users (2 devices each)', yLabel: 'µs', total: false },
  { id: 'idle-rss', title: 'Idle connections: server RSS', xLabel: 'open connections', yLabel: 'MiB', logY: true, total: 'base' },
  { id: 'idle-kib', title: 'Idle connections: RSS growth per connection', xLabel: 'open connections', yLabel: 'KiB', total: false },
  { id: 'user-rss', title: 'One user with many keys: server RSS after the requests', xLabel: 'keys of the user', yLabel: 'MiB', logY: true, total: 'base' },
  { id: 'user-ms', title: 'One user with many keys: latency of one request (p50)', xLabel: 'keys of the user', yLabel: 'ms', logY: true, total: false },
]

const SLOPE_NOTE = { true: 'slope 1 = linear', false: 'slope 0 = constant per unit', base: 'a total over a fixed base: below 1 even when the growth is linear' }

/** Adds one measured point of a curve. */
export const addPoint = (results, curve, series, x, unit, value) => results.add(WORKLOAD, series, `${curve} @ ${x}`, unit, value)

/** Medians of every series of `curve`, as `{ series: [[x, median], ...] }`, from a Results. */
function curveData(results, curve) {
  const data = {}
  for (const row of results.rows()) {
    if (row.workload !== WORKLOAD) continue
    const m = /^(.*) @ (\d+)$/.exec(row.metric)
    if (!m || m[1] !== curve) continue
    ;(data[row.system] ??= []).push([Number(m[2]), row.median, row.n])
  }
  for (const points of Object.values(data)) points.sort(([a], [b]) => a - b)
  return data
}

const fmt = (x) => (x === undefined || Number.isNaN(x) ? '-' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2))

/**
 * The log-log slopes between neighbouring points: 1 means the cost grows in proportion to x, 0 that it does not
 * grow, above 1 that it grows faster.
 */
function slopes(points) {
  const out = []
  for (let i = 1; i < points.length; i++) {
    const [[x0, y0], [x1, y1]] = [points[i - 1], points[i]]
    out.push(y0 > 0 && y1 > 0 ? Math.log(y1 / y0) / Math.log(x1 / x0) : NaN)
  }
  return out
}

/** A Markdown table per curve that has data: one row per series, one column per x, then the slopes. */
export function curveTables(results) {
  const tables = []
  for (const curve of CURVES) {
    const data = curveData(results, curve.id)
    const series = Object.keys(data)
    if (series.length === 0) continue
    const xs = [...new Set(series.flatMap((s) => data[s].map(([x]) => x)))].sort((a, b) => a - b)
    const head = ['', ...xs.map((x) => tickLabel(x)), 'log-log slopes']
    const rows = series.map((s) => {
      const byX = new Map(data[s].map(([x, y]) => [x, y]))
      return [s, ...xs.map((x) => fmt(byX.get(x))), slopes(data[s]).map((v) => (Number.isNaN(v) ? '-' : v.toFixed(2))).join(', ')]
    })
    const line = (cells) => `| ${cells.join(' | ')} |`
    tables.push([`#### ${curve.title} (${curve.yLabel}; medians; ${SLOPE_NOTE[String(curve.total)]})`, '',
      line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n'))
  }
  return tables
}

/** Writes `<id>.svg` for every curve that has data into `dir`; returns the files written. */
export function writePlots(results, dir) {
  mkdirSync(dir, { recursive: true })
  const written = []
  for (const curve of CURVES) {
    const data = curveData(results, curve.id)
    if (Object.keys(data).length === 0) continue
    const xs = [...new Set(Object.values(data).flatMap((points) => points.map(([x]) => x)))].sort((a, b) => a - b)
    const series = Object.entries(data).map(([name, points]) => ({ name, points: points.map(([x, y]) => [x, y]), dashed: name.startsWith('limit') }))
    const file = join(dir, `${curve.id}.svg`)
    writeFileSync(file, linePlot({ ...curve, xTicks: xs, series }))
    written.push(file)
  }
  return written
}

import { curveTables } from './lib/curvesReport.js'
import { costPerWrite, informational, targets } from './targets.js'

const fmt = (x) => {
  if (x === undefined || Number.isNaN(x)) return '-'
  const a = Math.abs(x)
  if (a >= 1000) return Math.round(x).toLocaleString('en-US')
  if (a >= 100) return x.toFixed(0)
  if (a >= 10) return x.toFixed(1)
  if (a >= 1) return x.toFixed(2)
  return x.toFixed(3)
}

function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)))
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |'
  return [line(columns), '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |', ...rows.map((r) => line(columns.map((c) => r[c])))].join('\n')
}

/** Prints the min/median/max table and the ratios against the targets (Markdown, pasted into the docs). */
export function printReport(results, log) {
  const rows = results.rows().map((r) => ({
    workload: r.workload, system: r.system, metric: r.metric, unit: r.unit,
    min: fmt(r.min), median: fmt(r.median), max: fmt(r.max), runs: r.n,
  }))
  log('\n### Results (min / median / max over runs)\n')
  log(table(rows, ['workload', 'system', 'metric', 'unit', 'min', 'median', 'max', 'runs']))
  const ratioRows = []
  for (const t of targets) {
    const v = t.value(results)
    if (v === undefined || Number.isNaN(v)) continue
    ratioRows.push({ target: t.name, 'cubby / reference (medians)': fmt(v), required: t.required, met: t.met(v) ? 'yes' : 'NO' })
  }
  if (ratioRows.length) {
    log('\n### Ratios against the targets\n')
    log(table(ratioRows, ['target', 'cubby / reference (medians)', 'required', 'met']))
  }
  const infoRows = informational
    .map((t) => ({ ratio: t.name, 'value (medians)': fmt(t.value(results)) }))
    .filter((r) => r['value (medians)'] !== '-')
  if (infoRows.length) {
    log('\n### Other ratios (no target)\n')
    log(table(infoRows, ['ratio', 'value (medians)']))
  }
  const costRows = costPerWrite(results).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? v : fmt(v)])))
  if (costRows.length) {
    log('\n### Cost per acknowledged write (server and Redis CPU seconds over the run / writes, medians)\n')
    log(table(costRows, Object.keys(costRows[0])))
  }
  for (const curve of curveTables(results)) log(`\n${curve}`)
}

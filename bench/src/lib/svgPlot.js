// A small hand-written SVG line plot (no dependency): log-scale x, linear or log y, axes with ticks and labels,
// one polyline per series and a legend. The curves workload writes one per curve into bench/results/curves/.

const WIDTH = 640
const HEIGHT = 400
const MARGIN = { left: 72, right: 16, top: 40, bottom: 56 }
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf']

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** A tick label: 1,000 → "1k", 0.25 → "0.25". */
export function tickLabel(v) {
  const a = Math.abs(v)
  if (a >= 1e6 && a % 1e5 === 0) return `${v / 1e6}M`
  if (a >= 1e3 && a % 100 === 0) return `${v / 1e3}k`
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v))
  return String(Number(v.toPrecision(2)))
}

/** Ticks of a linear axis from 0 to at least `max`: 1, 2 or 5 times a power of ten apart, about five of them. */
function linearTicks(max) {
  if (!(max > 0)) return [0, 1]
  const raw = max / 5
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)
  const ticks = []
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)))
  return ticks
}

/** Powers of ten covering [min, max] (at least two). */
function logTicks(min, max) {
  const lo = Math.floor(Math.log10(min))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)))
  const ticks = []
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e)
  return ticks
}

/**
 * Renders a line plot as an SVG document.
 * @param {{ title: string, xLabel: string, yLabel: string, logY?: boolean, xTicks?: number[],
 *   series: { name: string, points: [number, number][], dashed?: boolean }[] }} plot
 * @returns {string} the SVG text
 */
export function linePlot({ title, xLabel, yLabel, logY = false, xTicks, series }) {
  const points = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && Number.isFinite(y) && (!logY || y > 0))
  if (points.length === 0) throw new Error(`${title}: nothing to plot`)
  const xs = xTicks ?? logTicks(Math.min(...points.map(([x]) => x)), Math.max(...points.map(([x]) => x)))
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)]
  const yValues = points.map(([, y]) => y)
  const yTicks = logY ? logTicks(Math.min(...yValues), Math.max(...yValues)) : linearTicks(Math.max(...yValues))
  const [yMin, yMax] = [yTicks[0], yTicks.at(-1)]
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const px = (x) => MARGIN.left + (xMax === xMin ? plotW / 2 : ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * plotW)
  const py = (y) => {
    const f = logY ? (Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) : (y - yMin) / (yMax - yMin)
    return MARGIN.top + plotH - f * plotH
  }
  const r = (v) => v.toFixed(1)
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ]
  for (const x of xs) {
    out.push(`<line x1="${r(px(x))}" y1="${MARGIN.top}" x2="${r(px(x))}" y2="${MARGIN.top + plotH}" stroke="#ddd"/>`)
    out.push(`<text x="${r(px(x))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${tickLabel(x)}</text>`)
  }
  for (const y of yTicks) {
    out.push(`<line x1="${MARGIN.left}" y1="${r(py(y))}" x2="${MARGIN.left + plotW}" y2="${r(py(y))}" stroke="#ddd"/>`)
    out.push(`<text x="${MARGIN.left - 6}" y="${r(py(y) + 4)}" text-anchor="end">${tickLabel(y)}</text>`)
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`)
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escape(xLabel)} (log scale)</text>`)
  out.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}${logY ? ' (log scale)' : ''}</text>`)
  // The legend sits on a white box in the top left corner, over the grid but under no line's end labels.
  const legendW = 40 + 7 * Math.max(...series.map((s) => s.name.length))
  out.push(`<rect x="${MARGIN.left + 4}" y="${MARGIN.top + 2}" width="${legendW}" height="${series.length * 16 + 6}" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>`)
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const pts = s.points.filter(([x, y]) => x > 0 && Number.isFinite(y) && (!logY || y > 0)).sort(([a], [b]) => a - b)
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : ''
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map(([x, y]) => `${r(px(x))},${r(py(y))}`).join(' ')}"/>`)
    for (const [x, y] of pts) out.push(`<circle cx="${r(px(x))}" cy="${r(py(y))}" r="3.5" fill="${color}"/>`)
    const ly = MARGIN.top + 14 + i * 16
    out.push(`<line x1="${MARGIN.left + 10}" y1="${ly - 4}" x2="${MARGIN.left + 30}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`)
    out.push(`<text x="${MARGIN.left + 36}" y="${ly}">${escape(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

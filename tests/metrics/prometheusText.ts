/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`)
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES = ['_bucket', '_sum', '_count', '']

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = text
  while (rest !== '') {
    const match = LABEL.exec(rest)
    if (match === null) throw new Error(`Bad labels in ${JSON.stringify(line)}`)
    labels[match[1]!] = match[2]!
    rest = rest.slice(match[0].length)
  }
  return labels
}

/**
 * Parses the Prometheus text format (version 0.0.4) strictly: every line is a `# HELP`, a `# TYPE` or a sample;
 * every sample belongs to a family that has both, declared before it; values are numbers.
 * @throws Error naming the first line that does not fit.
 */
export function parsePrometheusText(text: string): Sample[] {
  const help = new Set<string>()
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const comment = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line)
    if (comment !== null) {
      const [, kind, name, rest] = comment
      if (!new RegExp(`^${NAME}$`).test(name!)) throw new Error(`Bad metric name in ${JSON.stringify(line)}`)
      if (kind === 'HELP') help.add(name!)
      else if (TYPES.has(rest!)) types.set(name!, rest!)
      else throw new Error(`Bad type in ${JSON.stringify(line)}`)
      continue
    }
    const match = SAMPLE.exec(line)
    if (match === null) throw new Error(`Not a sample: ${JSON.stringify(line)}`)
    const [, name, labelText, raw] = match
    // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes `Nan`).
    const special = /^([+-]?)(inf|nan)$/i.exec(raw!)
    const value = special === null ? Number(raw) : special[2]!.toLowerCase() === 'nan' ? Number.NaN : special[1] === '-' ? -Infinity : Infinity
    if (special === null && (raw!.trim() === '' || Number.isNaN(value))) throw new Error(`Bad value in ${JSON.stringify(line)}`)
    const family = SUFFIXES.map((s) => (s !== '' && name!.endsWith(s) ? name!.slice(0, -s.length) : name!)).find((f) => types.has(f))
    if (family === undefined || !help.has(family)) throw new Error(`Sample without HELP and TYPE: ${JSON.stringify(line)}`)
    samples.push({ name: name!, labels: parseLabels(labelText ?? '', line), value })
  }
  return samples
}

/** The value of the sample with this name and exactly these labels, or 0 when there is none yet. */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels)
  const found = samples.find((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v))
  return found?.value ?? 0
}

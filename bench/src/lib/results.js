import { spread } from './stats.js'

/**
 * Collects one number per run for each (workload, system, metric), plus free-form details per run.
 * `toJSON()` is what lands in bench/results/*.json.
 */
export class Results {
  #data = {}
  /** Results read back from a saved run (the `results` member of its JSON). */
  static from(data) {
    const results = new Results()
    results.#data = structuredClone(data)
    return results
  }
  add(workload, system, metric, unit, value) {
    const w = (this.#data[workload] ??= {})
    const s = (w[system] ??= {})
    const m = (s[metric] ??= { unit, runs: [] })
    m.runs.push(value)
  }
  /** min/median/max of a metric, or undefined when it was not measured. */
  get(workload, system, metric) {
    const m = this.#data[workload]?.[system]?.[metric]
    return m ? { unit: m.unit, ...spread(m.runs) } : undefined
  }
  median(workload, system, metric) {
    return this.get(workload, system, metric)?.median
  }
  rows() {
    const rows = []
    for (const [workload, systems] of Object.entries(this.#data)) {
      for (const [system, metrics] of Object.entries(systems)) {
        for (const [metric, m] of Object.entries(metrics)) rows.push({ workload, system, metric, unit: m.unit, ...spread(m.runs), runs: m.runs })
      }
    }
    return rows
  }
  toJSON() {
    return this.#data
  }
}

#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `pnpm bench -- --profile`): self time by package and the top
// functions by self time. Usage: node bench/src/profile.js <file.cpuprofile> [--top 25]
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true })
const file = positionals[0]
if (!file) throw new Error('usage: profile.js <file.cpuprofile> [--top N]')
const profile = JSON.parse(readFileSync(file, 'utf8'))

// Self time per node: each sample names the node that was on top of the stack.
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map()
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

const where = (url) => {
  if (!url) return '(native/vm)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url)
  if (pkg) return pkg[1]
  const ws = /\/(packages|apps)\/([^/]+)\//.exec(url)
  if (ws) return `@cubby/${ws[2]}`
  if (url.startsWith('node:')) return 'node:*'
  return url.replace(/^file:\/\//, '')
}
const byPackage = new Map()
const byFunction = new Map()
for (const [id, us] of selfUs) {
  const { callFrame: f } = byId.get(id)
  const pkg = where(f.url)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
  const name = `${f.functionName || '(anonymous)'}  ${f.url ? `${f.url.replace(/^.*\/(node_modules|packages|apps)\//, '')}:${f.lineNumber + 1}` : ''}`
  byFunction.set(name, (byFunction.get(name) ?? 0) + us)
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n\nself time by package:`)
for (const [k, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${k}`)
console.log(`\ntop ${values.top} functions by self time:`)
for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${pct(us)}  ${k}`)

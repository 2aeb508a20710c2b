#!/usr/bin/env node
// Summarises V8 heap snapshots (from `pnpm bench -- --only idle --heap`): retained-by-nobody-in-particular
// self sizes grouped by constructor. With two snapshots, prints what the first holds beyond the second,
// divided by --per (the number of connections): bytes per connection by constructor.
// Usage: node bench/src/heap.js <a.heapsnapshot> [<b.heapsnapshot> --per 2000] [--top 25]
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '25' } }, allowPositionals: true })

export function summarise(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'))
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const width = fields.length
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f))
  const groups = new Map()
  let total = 0
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]]
    const size = snap.nodes[i + iSize]
    total += size
    // Objects by constructor name; strings, code, arrays and the rest by their type.
    const name = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${snap.strings[snap.nodes[i + iName]]}` : `(${type})`
    const g = groups.get(name) ?? { size: 0, count: 0 }
    g.size += size
    g.count++
    groups.set(name, g)
  }
  return { total, groups }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [a, b] = positionals
  if (!a) throw new Error('usage: heap.js <a.heapsnapshot> [<b.heapsnapshot> --per N]')
  const per = Number(values.per)
  const top = Number(values.top)
  const A = summarise(a)
  const B = b ? summarise(b) : { total: 0, groups: new Map() }
  const rows = [...new Set([...A.groups.keys(), ...B.groups.keys()])].map((name) => {
    const x = A.groups.get(name) ?? { size: 0, count: 0 }
    const y = B.groups.get(name) ?? { size: 0, count: 0 }
    return { name, bytes: (x.size - y.size) / per, count: (x.count - y.count) / per }
  })
  rows.sort((p, q) => q.bytes - p.bytes)
  console.log(`${a}${b ? ` minus ${b}` : ''}${per > 1 ? `, per ${per}` : ''}: JS heap ${((A.total - B.total) / per / 1024).toFixed(1)} KiB`)
  for (const r of rows.slice(0, top)) console.log(`${r.bytes.toFixed(0).padStart(10)} B  ${r.count.toFixed(1).padStart(7)} objects  ${r.name}`)
}

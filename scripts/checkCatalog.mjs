#!/usr/bin/env node
// One version per dependency: every package.json names an external dependency as "catalog:", and its version
// lives once, in pnpm-workspace.yaml's catalog. pnpm accepts a plain version next to "catalog:" (and sherif
// does not compare them), so this check fails on any dependency that bypasses the catalog, and on a catalog
// entry that no package uses. peerDependencies keep their own compatibility ranges.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SECTIONS = ['dependencies', 'devDependencies', 'optionalDependencies']

const workspace = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8')
const section = (name) => workspace.split(new RegExp(`^${name}:\\n`, 'm'))[1]?.split(/\n(?!\s)/)[0] ?? ''
const patterns = [...section('packages').matchAll(/^\s+- (\S+)$/gm)].map((m) => m[1])
const catalog = new Set([...section('catalog').matchAll(/^\s+'?([^':\s]+)'?:/gm)].map((m) => m[1]))

/** The workspace's package folders: the root plus each `packages:` pattern (`dir` or `dir/*`). */
const folders = ['.', ...patterns.flatMap((p) => {
  if (!p.endsWith('/*')) return [p]
  const dir = p.slice(0, -2)
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${dir}/${d.name}`)
})].filter((dir) => existsSync(join(ROOT, dir, 'package.json')))

const problems = []
const used = new Set()
for (const dir of folders) {
  const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'))
  for (const field of SECTIONS) {
    for (const [name, spec] of Object.entries(pkg[field] ?? {})) {
      if (spec.startsWith('workspace:')) continue
      if (spec !== 'catalog:') problems.push(`${dir}/package.json: ${field}.${name} is "${spec}"; use "catalog:" and set the version in pnpm-workspace.yaml`)
      else if (!catalog.has(name)) problems.push(`${dir}/package.json: ${field}.${name} is not in the catalog of pnpm-workspace.yaml`)
      used.add(name)
    }
  }
}
for (const name of catalog) if (!used.has(name)) problems.push(`pnpm-workspace.yaml: catalog entry ${name} is used by no package`)

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`)
  process.exit(1)
}
process.stdout.write(`catalog: ${used.size} dependencies, one version each, across ${folders.length} packages\n`)

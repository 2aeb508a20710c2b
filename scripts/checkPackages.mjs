#!/usr/bin/env node
// `pnpm check:packages`, part of the test command: packs every public package as a publish would and checks each
// tarball: what it ships (LICENSE, README, no tests, build info or configs), its manifest (license, repository,
// no workspace: or catalog: ranges left, bin files present), then `publint --strict` and `attw` (ESM-only profile:
// types resolve for every entry under node16 and bundler resolution). Run after a build. Exits 1 on any problem.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packPackages } from './packPackages.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (name) => join(root, 'node_modules', '.bin', name)

/** Files that must never ship: tests, fixtures, test helpers, build caches and build configs. */
const FORBIDDEN = [/\.test(-d)?\.[cm]?[jt]sx?$/, /\.test\.d\.ts/, /\.fixture\./, /(^|\/)src\/testing\//, /\.tsbuildinfo$/, /(^|\/)\.turbo\//, /^package\/tsconfig(\.[\w-]+)?\.json$/]
const REQUIRED = ['package/package.json', 'package/LICENSE', 'package/README.md']

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` }
}

/** Problems with a tarball's file list and manifest. */
function checkContents({ name, dir, tarball }) {
  const problems = []
  const listing = run('tar', ['-tzf', tarball])
  if (!listing.ok) return [`cannot list ${tarball}: ${listing.output}`]
  const files = listing.output.split('\n').filter(Boolean)
  for (const file of files) if (FORBIDDEN.some((pattern) => pattern.test(file))) problems.push(`ships ${file}`)
  for (const file of REQUIRED) if (!files.includes(file)) problems.push(`does not ship ${file}`)
  const manifest = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']).output)
  if (manifest.license !== 'MIT') problems.push(`license is ${JSON.stringify(manifest.license)}, not "MIT"`)
  if (!manifest.repository?.url || manifest.repository.directory !== dir) problems.push(`repository is not { url, directory: "${dir}" }`)
  if (manifest.private) problems.push('is private')
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog):/.test(range)) problems.push(`${field}.${dep} is still ${range}`)
    }
  }
  for (const path of Object.values(typeof manifest.bin === 'string' ? { [name]: manifest.bin } : (manifest.bin ?? {}))) {
    if (!files.includes(`package/${path.replace(/^\.\//, '')}`)) problems.push(`bin ${path} is not in the tarball`)
  }
  return problems
}

const destination = mkdtempSync(join(tmpdir(), 'cubby-pack-'))
let failed = false
try {
  for (const pkg of packPackages(destination)) {
    const problems = checkContents(pkg)
    const publint = run(bin('publint'), ['run', pkg.tarball, '--strict'])
    if (!publint.ok) problems.push(`publint --strict:\n${publint.output}`)
    const attw = run(bin('attw'), [pkg.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji'])
    if (!attw.ok) problems.push(`attw --profile esm-only:\n${attw.output}`)
    if (problems.length > 0) failed = true
    process.stdout.write(problems.length === 0 ? `ok    ${pkg.name}\n` : `FAIL  ${pkg.name}\n${problems.map((p) => `  - ${p}`).join('\n')}\n`)
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}
if (failed) {
  process.stderr.write('check:packages: some public packages are not ready to publish (see above)\n')
  process.exit(1)
}

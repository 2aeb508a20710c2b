#!/usr/bin/env node
// Packs every public workspace package (no `"private": true`) with pnpm, which turns `workspace:*` and `catalog:`
// into real versions as a publish would (npm pack does not), into the folder given as the only argument.
// Prints one JSON array of { name, dir, tarball } on stdout. Used by checkPackages.mjs and tests/consumer.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** The public packages of the workspace: every package.json under packages/ and apps/ without `"private": true`. */
export function publicPackages() {
  return ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group))
      .map((name) => join(group, name))
      .filter((dir) => existsSync(join(root, dir, 'package.json')))
      .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }))
      .filter(({ manifest }) => manifest.private !== true)
      .map(({ dir, manifest }) => ({ name: manifest.name, version: manifest.version, dir })),
  )
}

/** The tarball name npm and pnpm give a package: `@scope/name` → `scope-name-version.tgz`. */
export const tarballName = (name, version) => `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`

/** Packs the public packages into `destination` (created if missing); throws when pnpm fails. */
export function packPackages(destination) {
  mkdirSync(destination, { recursive: true })
  const packages = publicPackages()
  const names = packages.map((p) => tarballName(p.name, p.version))
  const clash = names.find((name, i) => names.indexOf(name) !== i)
  if (clash) throw new Error(`two public packages pack to ${clash}`)
  const filters = packages.flatMap((p) => ['--filter', p.name])
  const result = spawnSync(process.execPath, [join(root, 'scripts/pnpm.mjs'), '-r', ...filters, 'pack', '--pack-destination', destination], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  if (result.status !== 0) throw new Error(`pnpm pack failed (exit ${result.status}):\n${result.stdout}`)
  return packages.map((p, i) => {
    const tarball = join(destination, names[i])
    if (!existsSync(tarball)) throw new Error(`pnpm pack made no ${basename(tarball)}`)
    return { name: p.name, dir: p.dir, tarball }
  })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const destination = process.argv[2]
  if (!destination) {
    process.stderr.write('usage: node scripts/packPackages.mjs <destination folder>\n')
    process.exit(2)
  }
  process.stdout.write(JSON.stringify(packPackages(resolve(destination))) + '\n')
}

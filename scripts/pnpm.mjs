#!/usr/bin/env node
// Runs the workspace's pnpm without a global install: Node 20 + npm is all a fresh machine has,
// and corepack cannot be relied on (its signature check fails on some machines).
import { spawnSync } from 'node:child_process'

const PNPM = 'pnpm@10.34.9'
const args = ['--yes', PNPM, ...process.argv.slice(2)]
const result = spawnSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', args, {
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
})
if (result.error) throw result.error
process.exit(result.status ?? 1)

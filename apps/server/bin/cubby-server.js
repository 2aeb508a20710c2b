#!/usr/bin/env node
// The `cubby-server` command. It lives outside dist/ so that it exists before the first build: pnpm links a
// workspace package's bin at install time, and skips one whose file is missing (then `npx cubby-server` in the
// repository would ask the registry for a package of that name).
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('cubby-server: not built yet; run `node scripts/pnpm.mjs run build` in the repository first.\n')
  process.exit(1)
}
await import(cli.href)

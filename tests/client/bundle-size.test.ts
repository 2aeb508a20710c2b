import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { type Rollup, build } from 'vite'
import { describe, expect, it } from 'vitest'

/**
 * Bundles an app that keeps the client's whole public API, from source, with Vite (Rollup, code splitting,
 * minified) and returns its chunks: what the app's bundler gives its users.
 */
async function bundleApp(): Promise<Rollup.OutputChunk[]> {
  const output = (await build({
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions: ['@cubby/source', 'browser', 'module', 'import', 'default'] },
    // An app build, not a library one: Vite keeps a library's whitespace, an app's bundle is minified in full.
    build: { write: false, minify: 'esbuild', modulePreload: false, rollupOptions: { input: fileURLToPath(new URL('./bundleApp.entry.ts', import.meta.url)) } },
  })) as Rollup.RollupOutput | Rollup.RollupOutput[]
  return (Array.isArray(output) ? output : [output]).flatMap((o) => o.output.filter((c): c is Rollup.OutputChunk => c.type === 'chunk'))
}

/** The entry chunk and what it imports statically, transitively: what loads before the app's code runs. */
function initialChunks(chunks: Rollup.OutputChunk[]): Rollup.OutputChunk[] {
  const byName = new Map(chunks.map((c) => [c.fileName, c]))
  const seen = new Set<Rollup.OutputChunk>()
  const queue = chunks.filter((c) => c.isEntry)
  for (let c = queue.pop(); c; c = queue.pop()) {
    if (seen.has(c)) continue
    seen.add(c)
    for (const name of c.imports) queue.push(byName.get(name)!)
  }
  return [...seen]
}

const gzip = (chunks: Rollup.OutputChunk[]): number => chunks.reduce((n, c) => n + gzipSync(c.code, { level: 9 }).length, 0)

describe('the client bundle (issue 16)', () => {
  it('loads under 11,000 B gzip before the app runs, and the replica, the socket and the tabs on demand', async () => {
    const chunks = await bundleApp()
    const initial = initialChunks(chunks)
    expect(gzip(initial)).toBeLessThan(11_000)
    // Every feature is still there: the rest comes in chunks the initial one imports with import().
    const lazy = chunks.filter((c) => !initial.includes(c))
    expect(lazy.map((c) => c.name)).toEqual(expect.arrayContaining(['loadReplica', 'Updater']))
    expect(initial.some((c) => c.dynamicImports.length > 0)).toBe(true)
  }, 120_000)
})

// Workload 6: client bundle size. An app that imports a library's whole public API (a namespace
// import kept alive), bundled by esbuild for the browser with code splitting, minified, then gzip -9 per
// chunk: the initial chunk (what loads before the app runs) and the total. Deterministic, so it runs once
// whatever --runs says.
import { existsSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const BENCH_DIR = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGES_DIR = fileURLToPath(new URL('../../../packages/', import.meta.url))

const keep = (...modules) => modules.map((m, i) => `import * as m${i} from '${m}'; globalThis.m${i} = m${i};`).join('\n')

/** What each app imports; `external` are the frameworks a binding's app has anyway. */
function apps() {
  const list = [
    { name: 'cubby (default cache)', source: keep('@cubby/client') },
    // What a typical app keeps: createCubby alone. Since the binding core left the default entry for
    // @cubby/client/bindings, this is within a few hundred bytes of the whole default API.
    { name: 'cubby (createCubby only)', source: "import { createCubby } from '@cubby/client'; globalThis.createCubby = createCubby" },
    { name: 'cubby + dexie cache (incl. dexie)', source: keep('@cubby/client', '@cubby/client/dexie', 'dexie') },
    { name: 'idb-keyval', source: keep('idb-keyval') },
    { name: 'dexie', source: keep('dexie') },
    { name: 'yjs + y-indexeddb + y-websocket', source: keep('yjs', 'y-indexeddb', 'y-websocket') },
    { name: 'replicache', source: keep('replicache') },
    { name: 'pouchdb-browser', source: keep('pouchdb-browser') },
  ]
  for (const [binding, framework] of [['react', ['react', 'react-dom']], ['vue', ['vue']], ['svelte', ['svelte', 'svelte/store']]]) {
    const dist = `${PACKAGES_DIR}${binding}/dist/index.js`
    // The app creates its client with @cubby/client and hands it to the binding (some bindings import
    // the client only for types), so the client is part of every binding's app.
    if (existsSync(dist)) list.push({ name: `cubby + ${binding} binding (${framework[0]} external)`, source: keep('@cubby/client', dist), external: framework })
  }
  return list
}

/**
 * Bundles one app the way an app's bundler does (esbuild, code splitting, ESM) and sizes its chunks: the
 * initial chunk is the entry plus the chunks it imports statically, transitively (what loads before the app's
 * code runs); the total is every chunk, dynamic imports included. Each chunk is gzipped on its own and the
 * sizes summed, as the browser downloads them. A peer that does not split gives one chunk: initial = total.
 */
export async function measure({ name, source, external = [] }) {
  const out = await build({
    stdin: { contents: source, resolveDir: BENCH_DIR, loader: 'js', sourcefile: 'app.js' },
    bundle: true,
    splitting: true,
    format: 'esm',
    outdir: `${BENCH_DIR}.bundle-out`,
    absWorkingDir: BENCH_DIR,
    platform: 'browser',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    external,
    // pouchdb-browser needs Node's `events`, from the `events` package (a dependency of the bench).
    nodePaths: [`${BENCH_DIR}node_modules`],
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  })
  const size = new Map(out.outputFiles.map((f) => [relative(BENCH_DIR, f.path), { minified: f.contents.length, gzip: gzipSync(f.contents, { level: 9 }).length }]))
  const outputs = out.metafile.outputs
  const entry = Object.keys(outputs).find((o) => outputs[o].entryPoint !== undefined)
  const initial = new Set()
  for (const queue = [entry]; queue.length > 0; ) {
    const o = queue.pop()
    if (initial.has(o)) continue
    initial.add(o)
    for (const i of outputs[o].imports) if (i.kind === 'import-statement' && !i.external) queue.push(i.path)
  }
  const sum = (files, metric) => files.reduce((n, f) => n + (size.get(f)?.[metric] ?? 0), 0)
  const js = [...size.keys()].filter((f) => f.endsWith('.js'))
  return {
    name,
    minified: sum([...initial], 'minified'),
    gzip: sum([...initial], 'gzip'),
    totalMinified: sum(js, 'minified'),
    totalGzip: sum(js, 'gzip'),
    chunks: js.length,
    metafile: out.metafile,
  }
}

export async function run({ results, log, systems }) {
  for (const app of apps()) {
    if (app.name.startsWith('cubby') && !systems.includes('cubby')) continue
    try {
      const res = await measure(app)
      results.add('bundle', app.name, 'minified', 'bytes', res.minified)
      results.add('bundle', app.name, 'gzip', 'bytes', res.gzip)
      results.add('bundle', app.name, 'total minified', 'bytes', res.totalMinified)
      results.add('bundle', app.name, 'total gzip', 'bytes', res.totalGzip)
      const total = res.chunks > 1 ? `; all ${res.chunks} chunks ${res.totalMinified} B minified, ${res.totalGzip} B gzip -9` : ''
      log(`  ${app.name}: initial ${res.minified} B minified, ${res.gzip} B gzip -9${total}`)
    } catch (error) {
      log(`  ${app.name}: does not bundle: ${String(error.message).split('\n')[0]}`)
      if (app.name.startsWith('cubby (default')) throw error
    }
  }
}

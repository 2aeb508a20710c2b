// Workload 6: client bundle size. An app that imports a library's whole public API (a namespace
// import kept alive), bundled by esbuild for the browser, minified, then gzip -9. Deterministic, so it
// runs once whatever --runs says.
import { existsSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
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

export async function measure({ name, source, external = [] }) {
  const out = await build({
    stdin: { contents: source, resolveDir: BENCH_DIR, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    logLevel: 'silent',
    external,
    // pouchdb-browser needs Node's `events`, from the `events` package (a dependency of the bench).
    nodePaths: [`${BENCH_DIR}node_modules`],
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  })
  const code = out.outputFiles[0].contents
  return { name, minified: code.length, gzip: gzipSync(code, { level: 9 }).length }
}

export async function run({ results, log, systems }) {
  for (const app of apps()) {
    if (app.name.startsWith('cubby') && !systems.includes('cubby')) continue
    try {
      const res = await measure(app)
      results.add('bundle', app.name, 'minified', 'bytes', res.minified)
      results.add('bundle', app.name, 'gzip', 'bytes', res.gzip)
      log(`  ${app.name}: ${res.minified} B minified, ${res.gzip} B gzip -9`)
    } catch (error) {
      log(`  ${app.name}: does not bundle: ${String(error.message).split('\n')[0]}`)
      if (app.name.startsWith('cubby (default')) throw error
    }
  }
}

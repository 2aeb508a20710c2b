import { fileURLToPath } from 'node:url'
import { build } from 'vite'

/**
 * Bundles a test page's entry from source with Vite and returns every chunk by the path it is served at: the
 * entry at `/<name>.js`, the chunks it loads with `import()` (the client loads its replica that way) at
 * `/<their file name>`, where the entry's relative imports find them.
 */
export async function bundlePage(entry: URL, name: string): Promise<Map<string, string>> {
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions: ['@cubby/source', 'browser', 'module', 'import', 'default'] },
    build: {
      write: false,
      minify: false,
      lib: { entry: fileURLToPath(entry), formats: ['es'], fileName: name },
    },
  })
  const files = new Map<string, string>()
  for (const out of Array.isArray(output) ? output : [output]) {
    if (!('output' in out)) continue
    for (const o of out.output) if (o.type === 'chunk') files.set(o.isEntry ? `/${name}.js` : `/${o.fileName}`, o.code)
  }
  if (!files.has(`/${name}.js`)) throw new Error(`vite built no entry chunk for ${name}`)
  return files
}

import { type Server, createServer } from 'node:http'
import { bundlePage } from './bundlePage.js'

/** A test page served on 127.0.0.1 (IndexedDB needs a real origin); `await using` stops the server. */
export interface ServedPage extends AsyncDisposable {
  /** The page's origin, for the DevTools protocol's storage commands. */
  readonly origin: string
  /** The page itself: `origin` + `/`. */
  readonly url: string
}

/**
 * Bundles the page entry `entry` (see {@link bundlePage}) and serves it: `/` is an HTML page that loads it as
 * `/<name>.js`, its chunks are at their paths, anything else is 404.
 */
export async function servePage(entry: URL, name: string): Promise<ServedPage> {
  const files = await bundlePage(entry, name)
  const server: Server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>${name}</title><script type="module" src="/${name}.js"></script>`)
    else if (files.has(req.url ?? '')) res.writeHead(200, { 'content-type': 'text/javascript' }).end(files.get(req.url ?? ''))
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const origin = `http://127.0.0.1:${address.port}`
  return { origin, url: `${origin}/`, [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

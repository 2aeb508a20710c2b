import { type Server, createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { build } from 'vite'
import { type TestServer, startTestServer } from '@cubby/test-utils'
import { afterAll, beforeAll } from 'vitest'

/** The storage page (`storagePage.entry.ts`, bundled from source), served on 127.0.0.1 (IndexedDB needs a real origin). */
interface StorageSite extends AsyncDisposable {
  /** The page's origin, for the DevTools protocol's storage commands. */
  readonly origin: string
  /** Opens (or reloads) a page of `context` with `window.storage` ready. */
  openPage(context: BrowserContext, page?: Page): Promise<Page>
}

async function bundleEntry(): Promise<string> {
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions: ['@cubby/source', 'browser', 'module', 'import', 'default'] },
    build: {
      write: false,
      minify: false,
      lib: { entry: fileURLToPath(new URL('./storagePage.entry.ts', import.meta.url)), formats: ['es'], fileName: 'storage' },
    },
  })
  for (const out of Array.isArray(output) ? output : [output]) {
    if (!('output' in out)) continue
    const chunk = out.output.find((o) => o.type === 'chunk' && o.isEntry)
    if (chunk && chunk.type === 'chunk') return chunk.code
  }
  throw new Error('vite built no entry chunk for the storage page')
}

/** Bundles the storage page and serves it; `await using` stops the server. */
async function serveStorageSite(): Promise<StorageSite> {
  const script = await bundleEntry()
  const server: Server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>storage</title><script type="module" src="/storage.js"></script>')
    else if (req.url === '/storage.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const origin = `http://127.0.0.1:${address.port}`
  return {
    origin,
    async openPage(context, existing) {
      const page = existing ?? (await context.newPage())
      if (!existing) page.on('pageerror', (error) => console.error(`[page error] ${error.message}`))
      await page.goto(`${origin}/`)
      await page.waitForFunction(() => 'storage' in window && 'open' in window.storage, undefined, { timeout: 15_000 })
      return page
    },
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The server and the storage page of one test file, started before its tests and stopped after them. */
export interface StorageSuite {
  server: TestServer
  site: StorageSite
}

/** Starts an in-process server and the storage page for the calling `describe` (`beforeAll`/`afterAll`). */
export function storageSuite(): StorageSuite {
  const suite = {} as StorageSuite
  beforeAll(async () => {
    suite.server = await startTestServer()
    suite.site = await serveStorageSite()
  })
  afterAll(async () => {
    await suite.site?.[Symbol.asyncDispose]()
    await suite.server?.[Symbol.asyncDispose]()
  })
  return suite
}

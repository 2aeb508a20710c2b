import { type Server, createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import type { EngineContext, EnginePage } from './Engine.js'
import { build } from 'vite'

/** A page with the client (`tabsPage.entry.ts`, bundled from source), served on 127.0.0.1 (IndexedDB needs a real origin). */
export interface TabsSite extends AsyncDisposable {
  readonly url: string
  /** Opens a tab of `context` with the page loaded (`window.tab` ready). */
  openTab(context: EngineContext): Promise<EnginePage>
  openTab(context: BrowserContext): Promise<Page>
}

async function bundleEntry(): Promise<string> {
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions: ['@cubby/source', 'browser', 'module', 'import', 'default'] },
    build: {
      write: false,
      minify: false,
      lib: { entry: fileURLToPath(new URL('./tabsPage.entry.ts', import.meta.url)), formats: ['es'], fileName: 'tab' },
    },
  })
  const outputs = Array.isArray(output) ? output : [output]
  for (const out of outputs) {
    if (!('output' in out)) continue
    const chunk = out.output.find((o) => o.type === 'chunk' && o.isEntry)
    if (chunk && chunk.type === 'chunk') return chunk.code
  }
  throw new Error('vite built no entry chunk for the tabs page')
}

/** Bundles the tabs page and serves it; `await using` stops the server. */
export async function serveTabsSite(): Promise<TabsSite> {
  const script = await bundleEntry()
  const server: Server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>tabs</title><script type="module" src="/tab.js"></script>')
    else if (req.url === '/tab.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const url = `http://127.0.0.1:${address.port}/`
  return {
    url,
    openTab: (async (context: EngineContext | BrowserContext) => {
      if ('browser' in context) {
        const page = await context.newPage()
        page.on('pageerror', (error) => console.error(`[page error] ${error.message}`))
        await page.goto(url)
        await page.waitForFunction(() => 'tab' in window, undefined, { timeout: 15_000 })
        return page
      }
      const page = await context.newPage()
      await page.goto(url)
      await page.waitForFunction(() => 'tab' in window)
      return page
    }) as TabsSite['openTab'],
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

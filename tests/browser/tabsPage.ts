import type { BrowserContext, Page } from 'playwright-core'
import type { EngineContext, EnginePage } from './Engine.js'
import { servePage } from './servePage.js'

/** A page with the client (`tabsPage.entry.ts`, bundled from source), served on 127.0.0.1 (IndexedDB needs a real origin). */
export interface TabsSite extends AsyncDisposable {
  readonly url: string
  /** Opens a tab of `context` with the page loaded (`window.tab` ready). */
  openTab(context: EngineContext): Promise<EnginePage>
  openTab(context: BrowserContext): Promise<Page>
}

/** Bundles the tabs page and serves it; `await using` stops the server. */
export async function serveTabsSite(): Promise<TabsSite> {
  const served = await servePage(new URL('./tabsPage.entry.ts', import.meta.url), 'tab')
  const { url } = served
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
    [Symbol.asyncDispose]: () => served[Symbol.asyncDispose](),
  }
}

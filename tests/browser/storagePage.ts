import type { BrowserContext, Page } from 'playwright-core'
import { servePage } from './servePage.js'
import { type TestServer, startTestServer } from '@cubby/test-utils'
import { afterAll, beforeAll } from 'vitest'

/** The storage page (`storagePage.entry.ts`, bundled from source), served on 127.0.0.1 (IndexedDB needs a real origin). */
interface StorageSite extends AsyncDisposable {
  /** The page's origin, for the DevTools protocol's storage commands. */
  readonly origin: string
  /** Opens (or reloads) a page of `context` with `window.storage` ready. */
  openPage(context: BrowserContext, page?: Page): Promise<Page>
}

/** Bundles the storage page and serves it; `await using` stops the server. */
async function serveStorageSite(): Promise<StorageSite> {
  const served = await servePage(new URL('./storagePage.entry.ts', import.meta.url), 'storage')
  const { origin } = served
  return {
    origin,
    async openPage(context, existing) {
      const page = existing ?? (await context.newPage())
      if (!existing) page.on('pageerror', (error) => console.error(`[page error] ${error.message}`))
      await page.goto(`${origin}/`)
      await page.waitForFunction(() => 'storage' in window && 'open' in window.storage, undefined, { timeout: 15_000 })
      return page
    },
    [Symbol.asyncDispose]: () => served[Symbol.asyncDispose](),
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

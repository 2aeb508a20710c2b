import { type CliServer, startCliServer } from '@cubby/test-utils'
import { afterAll, beforeAll } from 'vitest'
import type { Engine, EngineBrowser } from './Engine.js'
import { chromiumEngine } from './chromiumEngine.js'
import { firefoxEngine } from './firefoxEngine.js'
import { type TabsSite, serveTabsSite } from './tabsPage.js'

/**
 * The engines every browser test runs in. Use it as
 * `describe.each(engines)('$label', (engine) => { describe.runIf(engine.available())('…', () => { … }) })`,
 * and open pages through `engine.launch()`, so a test is written once for all of them.
 */
export const engines: readonly Engine[] = [chromiumEngine, firefoxEngine]

/**
 * One browser of `engine` for the calling describe block: launched before its tests, closed after them.
 * @returns The browser, once launched.
 */
export function launchedBrowser(engine: Engine): () => EngineBrowser {
  let browser: EngineBrowser | undefined
  beforeAll(async () => {
    browser = await engine.launch()
  })
  afterAll(async () => {
    await browser?.close()
  })
  return () => browser!
}

/** What {@link tabsSuite} starts, there from the describe block's `beforeAll` on. */
export interface TabsSuite {
  /** The real `cubby-server` process. */
  readonly server: CliServer
  /** The site that serves the tabs page. */
  readonly site: TabsSite
  /** One browser of the engine. */
  readonly browser: EngineBrowser
}

/**
 * The real server, the tabs site and one browser of `engine` for the calling describe block: started together
 * before its tests, closed after them (browser first). Read them inside tests: before `beforeAll` they throw.
 * @returns Getters for the three.
 */
export function tabsSuite(engine: Engine): TabsSuite {
  let server: CliServer | undefined
  let site: TabsSite | undefined
  let browser: EngineBrowser | undefined
  beforeAll(async () => {
    const results = await Promise.allSettled([startCliServer(), serveTabsSite(), engine.launch()])
    const [s, t, b] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined))
    ;[server, site, browser] = [s as CliServer | undefined, t as TabsSite | undefined, b as EngineBrowser | undefined]
    // What did start is closed in afterAll, which runs even when this hook fails.
    for (const result of results) if (result.status === 'rejected') throw result.reason
  })
  afterAll(async () => {
    await browser?.close()
    await site?.[Symbol.asyncDispose]()
    await server?.[Symbol.asyncDispose]()
  })
  const started = <T>(part: T | undefined): T => {
    if (part === undefined) throw new Error('the tabs suite starts in beforeAll: read it inside a test')
    return part
  }
  return {
    get server() { return started(server) },
    get site() { return started(site) },
    get browser() { return started(browser) },
  }
}

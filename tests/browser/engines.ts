import { afterAll, beforeAll } from 'vitest'
import type { Engine, EngineBrowser } from './Engine.js'
import { chromiumEngine } from './chromiumEngine.js'
import { firefoxEngine } from './firefoxEngine.js'

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

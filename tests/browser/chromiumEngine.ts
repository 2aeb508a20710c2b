import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type Engine, type EngineBrowser, type EngineContext, type EnginePage, WAIT_MS } from './Engine.js'
import { chromiumAvailable, launchChromium } from './chromium.js'

/** A playwright page as an EnginePage. @internal */
export function chromiumPage(page: Page): EnginePage {
  return {
    engine: 'chromium',
    addInitScript: async (script) => void (await page.addInitScript({ content: script })),
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    url: () => page.url(),
    evaluate: (fn, arg) => page.evaluate(fn as (arg: unknown) => never, arg),
    waitForFunction: async (fn, arg, timeoutMs = WAIT_MS) => void (await page.waitForFunction(fn as (arg: unknown) => unknown, arg, { timeout: timeoutMs })),
    waitFor: (selector, timeoutMs = WAIT_MS) => page.locator(selector).first().waitFor({ timeout: timeoutMs }),
    fill: (selector, value) => page.fill(selector, value),
    click: (selector) => page.click(selector),
    screenshot: async (path) => void (await page.screenshot({ path, fullPage: true })),
    close: () => page.close(),
  }
}

function chromiumContext(context: BrowserContext): EngineContext {
  return {
    async newPage() {
      const page = await context.newPage()
      page.on('pageerror', (error) => console.error(`[chromium page error] ${error.message}`))
      return chromiumPage(page)
    },
    // Chromium's network emulation fires the real offline and online events.
    setOffline: (offline) => context.setOffline(offline),
  }
}

function chromiumBrowser(browser: Browser): EngineBrowser {
  return {
    newContext: async () => chromiumContext(await browser.newContext({ viewport: { width: 1280, height: 800 } })),
    close: () => browser.close(),
    [Symbol.asyncDispose]: () => browser.close(),
  }
}

/** Debian's Chromium driven by playwright-core (`chromium.ts` finds and launches it). */
export const chromiumEngine: Engine = {
  name: 'chromium',
  label: 'Chromium',
  available: chromiumAvailable,
  launch: async (options = {}) =>
    chromiumBrowser(await launchChromium(options.insecureHost === undefined ? [] : [`--host-resolver-rules=MAP ${options.insecureHost} 127.0.0.1`])),
}

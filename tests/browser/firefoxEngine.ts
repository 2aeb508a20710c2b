import { existsSync } from 'node:fs'
import puppeteer, { type Browser, type BrowserContext, type ElementHandle, type Page } from 'puppeteer-core'
import { type Engine, type EngineBrowser, type EngineContext, type EnginePage, WAIT_MS } from './Engine.js'

/** Where to look: `FIREFOX_PATH` alone when set, else where Debian puts Firefox ESR. No browser is ever downloaded. */
const CANDIDATES = process.env.FIREFOX_PATH ? [process.env.FIREFOX_PATH] : ['/usr/bin/firefox-esr', '/usr/bin/firefox']

const FIREFOX_PATH: string | undefined = CANDIDATES.find((path) => existsSync(path))

const HOW_TO_INSTALL = `Install it with \`sudo apt-get install firefox-esr\` (Debian; .ci/run does this in CI), or point FIREFOX_PATH at a Firefox binary.`

function firefoxAvailable(): boolean {
  if (FIREFOX_PATH !== undefined) return true
  const notice = `Firefox was not found (looked at ${CANDIDATES.join(', ')}). ${HOW_TO_INSTALL}`
  if (process.env.CI === 'true') throw new Error(`${notice} CI=true: the browser tests must run.`)
  console.warn(`\n${'!'.repeat(100)}\n!! FIREFOX TESTS SKIPPED: ${notice}\n${'!'.repeat(100)}\n`)
  return false
}

/**
 * How often a wait checks again. Puppeteer's default is every animation frame, and its locators wait for them too:
 * Firefox runs none in a background tab, so a wait there would sit until the tab comes to the front.
 */
const POLL_MS = 50

/** Waits until `selector` matches a visible element, checking every POLL_MS, and returns it. */
async function visible(page: Page, selector: string, timeoutMs = WAIT_MS): Promise<ElementHandle> {
  await page.waitForFunction((sel) => document.querySelector(sel)?.checkVisibility() === true, { timeout: timeoutMs, polling: POLL_MS }, selector)
  const element = await page.$(selector)
  if (element === null) throw new Error(`${selector} went from the page`)
  return element
}

/** A puppeteer page as an EnginePage. */
function firefoxPage(page: Page): EnginePage {
  return {
    engine: 'firefox',
    addInitScript: async (script) => void (await page.evaluateOnNewDocument(script)),
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    url: () => page.url(),
    evaluate: (fn, arg) => page.evaluate(fn, arg as never),
    waitForFunction: async (fn, arg, timeoutMs = WAIT_MS) => void (await page.waitForFunction(fn, { timeout: timeoutMs, polling: POLL_MS }, arg as never)),
    waitFor: (selector, timeoutMs = WAIT_MS) => visible(page, selector, timeoutMs).then(() => undefined),
    async fill(selector, value) {
      const input = await visible(page, selector)
      // A slider or picker takes no typing: set its value and fire input and change as its UI would (as playwright's
      // fill does), through the prototype's setter so that React's onChange sees the change.
      const typed = await input.evaluate((el, v) => {
        if (!(el instanceof HTMLInputElement) || !['range', 'color', 'date', 'time', 'datetime-local', 'month', 'week'].includes(el.type)) return true
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, v)
        el.dispatchEvent(new Event('input', { bubbles: true }))
        el.dispatchEvent(new Event('change', { bubbles: true }))
        return false
      }, value)
      if (!typed) return
      // Select what is there and type over it, as a person would.
      await input.focus()
      await page.keyboard.down('Control')
      await page.keyboard.press('KeyA')
      await page.keyboard.up('Control')
      if (value === '') await page.keyboard.press('Backspace')
      else await page.keyboard.type(value)
    },
    async click(selector) {
      const element = await visible(page, selector)
      await element.click()
    },
    screenshot: async (path) => void (await page.screenshot({ path, fullPage: true })),
    close: () => page.close(),
  }
}

function firefoxContext(context: BrowserContext): EngineContext {
  // Puppeteer emulates the network per page: the profile's state is kept here and given to every tab it opens.
  let offline = false
  return {
    async newPage() {
      const page = await context.newPage()
      page.on('pageerror', (error) => console.error(`[firefox page error] ${error instanceof Error ? error.message : String(error)}`))
      if (offline) await page.setOfflineMode(true)
      return firefoxPage(page)
    },
    async setOffline(value) {
      offline = value
      for (const page of await context.pages()) await page.setOfflineMode(value)
    },
  }
}

function firefoxBrowser(browser: Browser): EngineBrowser {
  return {
    newContext: async () => firefoxContext(await browser.createBrowserContext()),
    close: () => browser.close(),
    [Symbol.asyncDispose]: () => browser.close(),
  }
}

/** Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi (puppeteer-core downloads no browser). */
export const firefoxEngine: Engine = {
  name: 'firefox',
  label: 'Firefox',
  available: firefoxAvailable,
  async launch(options = {}) {
    if (FIREFOX_PATH === undefined) throw new Error(`Firefox was not found. ${HOW_TO_INSTALL}`)
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      protocol: 'webDriverBiDi',
      headless: true,
      defaultViewport: { width: 1280, height: 800 },
      extraPrefsFirefox: {
        // Timers of a background tab run as in the front one, as playwright launches Chromium
        // (--disable-background-timer-throttling): tabs of a test are all "open", as each is in a window of its own.
        'dom.min_background_timeout_value': 4,
        'dom.min_background_timeout_value_without_budget_throttling': 4,
        'dom.timeout.background_throttling_max_budget': -1,
        'layout.throttled_frame_rate': 60,
        // Resolves the host to the loopback address, which Firefox still treats as no secure context over http.
        ...(options.insecureHost !== undefined && { 'network.dns.localDomains': options.insecureHost }),
      },
    })
    return firefoxBrowser(browser)
  },
}

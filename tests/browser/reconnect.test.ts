import { describe, expect, it, vi } from 'vitest'
import { engines, tabsSuite } from './engines.js'

/** A backoff so long that only a prompt reconnection brings the client back within the test's bounds. */
const HOUR = { minDelayMs: 3_600_000, maxDelayMs: 3_600_000 }

// After an outage the backoff may have grown to its cap: the client reconnects at once when the page becomes
// active again or the network comes back, in each real browser against the real cubby-server process.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('reconnecting when the page or the network comes back', () => {
    const suite = tabsSuite(engine)

    it.each([
      ['the window gets focus', 'focus'],
      ['the page becomes visible', 'visible'],
      ['the network comes back', 'online'],
    ] as const)('reconnects at once when %s, though the backoff says an hour', async (_name, how) => {
      const context = await suite.browser.newContext()
      const page = await suite.site.openTab(context)
      const userId = `back-${how}-${engine.name}`
      await page.evaluate((o) => window.tab.open(o), { url: suite.server.url, token: suite.server.token(userId), name: userId, reconnect: HOUR })
      expect(await page.evaluate(() => window.tab.status())).toBe('online')
      await suite.server.stop()
      await vi.waitFor(async () => expect(await page.evaluate(() => window.tab.status())).toBe('offline'), { timeout: 15_000 })
      await suite.server.start()
      if (how === 'online') {
        // The engine's own network emulation fires the real offline and online events.
        await context.setOffline(true)
        await context.setOffline(false)
      } else if (how === 'focus') {
        // Headless browsers keep every page focused and visible, so the events a real change fires are dispatched here.
        await page.evaluate(() => window.dispatchEvent(new FocusEvent('focus')))
      } else {
        await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
      }
      await vi.waitFor(async () => expect(await page.evaluate(() => window.tab.status())).toBe('online'), { timeout: 15_000 })
      await page.evaluate(() => window.tab.store('after', 1))
      await page.evaluate(() => window.tab.synced())
      await page.close()
    })
  })
})

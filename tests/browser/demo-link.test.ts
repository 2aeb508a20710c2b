import { describe, expect, it } from 'vitest'
import { engines, launchedBrowser } from './engines.js'
import { attributeOf, identityOf, openDevice, serveDemo, submit, textOf, waitListed, waitOnline } from './demoPage.js'

// Two browser profiles (two devices) on the real cubby-server process serving the built demo: one links the other
// with a link shown as a URL and a QR code, then revokes it.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('linking devices in the demo', () => {
    const server = serveDemo()
    const browser = launchedBrowser(engine)

    it('links a second browser by its URL, which then syncs the same data live, and revokes it', async () => {
      const a = await openDevice(browser(), server().url)
      await waitOnline(a.page)
      await submit(a.page, 'Written on A')
      await waitListed(a.page, 'Written on A', 'synced')

      await a.page.click('[data-testid="link-create"]')
      await a.page.waitFor('[data-testid="link-url"]')
      const url = (await textOf(a.page, '[data-testid="link-url"]'))!
      expect(url).toMatch(new RegExp(`^${server().url.replace(/[.]/g, '\\.')}/#link=[A-Za-z0-9_-]{43}$`))
      expect(await attributeOf(a.page, '[data-testid="link-url"]', 'href')).toBe(url)
      expect(await a.page.evaluate(() => document.querySelector('[data-testid="link-qr"]')?.tagName.toLowerCase())).toBe('svg')
      expect(await attributeOf(a.page, '[data-testid="link-qr"] path', 'd')).toMatch(/^M\d/)
      expect(await textOf(a.page, '[data-testid="link-expires"]')).toMatch(/Expires in \d+:\d\d/)

      // Another profile opens the link: it joins A's user, and the code leaves its address bar.
      const b = await openDevice(browser(), url)
      await b.page.waitFor('[data-testid="link-outcome"][data-joined="true"]')
      expect(b.page.url()).toBe(`${server().url}/`)
      await waitOnline(b.page)
      expect((await identityOf(b.page)).userId).toBe((await identityOf(a.page)).userId)
      await waitListed(b.page, 'Written on A', 'synced')
      await submit(b.page, 'Written on B')
      await waitListed(a.page, 'Written on B', 'synced')

      // A sees B in its list (and the link as used), and revokes it: B says so and stops syncing.
      await a.page.waitFor('[data-testid="link-used"]')
      await a.page.waitFor('[data-testid="device"][data-current="false"] [data-testid="revoke"]')
      expect(await a.page.evaluate(() => document.querySelectorAll('[data-testid="device"][data-current="true"] [data-testid="revoke"]').length)).toBe(0)
      await a.page.click('[data-testid="device"][data-current="false"] [data-testid="revoke"]')
      await a.page.click('[data-testid="revoke-confirm"]')
      await b.page.waitFor('[data-testid="refused"][data-reason="revoked"]')
      expect(await attributeOf(b.page, '[data-testid="connection"]', 'data-refused')).toBe('true')
      await a.page.waitFor('[data-testid="device"][data-revoked="true"]')
      // The code was single-use: opening the same URL again in a third profile is refused, and it stays itself.
      const c = await openDevice(browser(), url)
      await c.page.waitFor('[data-testid="link-outcome"][data-joined="false"]')
      expect(await textOf(c.page, '[data-testid="link-outcome"]')).toContain('already used or has expired')
      expect((await identityOf(c.page)).userId).not.toBe((await identityOf(a.page)).userId)
    })
  })
})

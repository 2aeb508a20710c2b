import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineBrowser } from './Engine.js'
import { engines } from './engines.js'
import { identityOf, openDevice, serverSubmissions, submit, waitListed, serveDemo, waitOnline } from './demoPage.js'

/** A name the browser resolves to 127.0.0.1 but, not being localhost, serves over http as no secure context. */
const HOST = 'demo.test'

// The demo opened as from a phone on the LAN: plain http on a host other than localhost, where the browser has
// no crypto.randomUUID, no crypto.subtle, no Web Locks and no clipboard API. The server still listens on 127.0.0.1 only.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('the demo over plain http on another host', () => {
    const server = serveDemo()
    let browser: EngineBrowser
    beforeAll(async () => {
      browser = await engine.launch({ insecureHost: HOST })
    })
    afterAll(async () => {
      await browser?.close()
    })

    it('submits and syncs with an identity from the server, and says tabs work alone', async () => {
      const { page } = await openDevice(browser, `http://${HOST}:${server().port}/`)
      const platform = await page.evaluate(() => ({
        secure: isSecureContext,
        randomUUID: typeof crypto.randomUUID,
        subtle: typeof crypto.subtle,
        clipboard: typeof navigator.clipboard,
        locks: typeof navigator.locks,
      }))
      expect(platform).toEqual({ secure: false, randomUUID: 'undefined', subtle: 'undefined', clipboard: 'undefined', locks: 'undefined' })

      await waitOnline(page)
      await submit(page, 'From a phone', 3)
      await waitListed(page, 'From a phone', 'synced')
      expect((await serverSubmissions(server(), (await identityOf(page)).userId)).map((s) => s.value.name)).toEqual(['From a phone'])
      // No WebCrypto here: the client asked the server for its identity, and says so.
      expect((await identityOf(page)).userId).toMatch(/^anon_(?!key_)/)
      // Shown only when the client says `tabs: 'independent'` on a page that is no secure context.
      await page.waitFor('[data-testid="insecure-notice"]')
    })
  })
})

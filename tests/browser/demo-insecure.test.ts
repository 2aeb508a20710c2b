import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineBrowser } from './Engine.js'
import { engines } from './engines.js'
import { attributeOf, identityOf, openDevice, serverSubmissions, submit, textOf, valueOf, waitListed, serveDemo, waitOnline } from './demoPage.js'

/** A name the browser resolves to 127.0.0.1 but, not being localhost, serves over http as no secure context. */
const HOST = 'demo.test'

// The demo opened as from a phone on the LAN: plain http on a host other than localhost, where the browser has
// no crypto.randomUUID, no Web Locks and no clipboard API. The server still listens on 127.0.0.1 only.
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

    it('submits and syncs, says tabs work alone, and never claims a copy it did not make', async () => {
      const { page } = await openDevice(browser, `http://${HOST}:${server().port}/`)
      const platform = await page.evaluate(() => ({
        secure: isSecureContext,
        randomUUID: typeof crypto.randomUUID,
        clipboard: typeof navigator.clipboard,
        locks: typeof navigator.locks,
      }))
      expect(platform).toEqual({ secure: false, randomUUID: 'undefined', clipboard: 'undefined', locks: 'undefined' })

      await waitOnline(page)
      await submit(page, 'From a phone', 3)
      await waitListed(page, 'From a phone', 'synced')
      expect((await serverSubmissions(server(), (await identityOf(page)).token)).map((s) => s.value.name)).toEqual(['From a phone'])
      // Shown only when the client says `tabs: 'independent'` on a page that is no secure context.
      await page.waitFor('[data-testid="insecure-notice"]')

      const link = await valueOf(page, '[data-testid="device-link"]')
      await page.click('[data-testid="copy-link"]')
      await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="copy-link"]')?.dataset.copy !== 'idle')
      const copied = (await attributeOf(page, '[data-testid="copy-link"]', 'data-copy')) === 'copied'
      if (copied) {
        // "Copied" must be true: paste it where the test can read it.
        await page.evaluate(() => document.body.append(Object.assign(document.createElement('textarea'), { id: 'paste-here' })))
        await page.paste('#paste-here')
        expect(await valueOf(page, '#paste-here')).toBe(link)
      } else {
        await page.waitFor('[data-testid="copy-manual"]')
        expect(await textOf(page, '[data-testid="copy-link"]')).toBe('Copy')
        const selected = await page.evaluate(() => {
          const input = document.activeElement as HTMLInputElement
          return input.value.slice(input.selectionStart ?? 0, input.selectionEnd ?? 0)
        })
        expect(selected).toBe(link)
      }
    })
  })
})

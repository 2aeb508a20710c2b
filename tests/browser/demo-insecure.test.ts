import { describe, expect, it } from 'vitest'
import { chromiumAvailable, launchChromium } from './chromium.js'
import { identityOf, openDevice, serverSubmissions, submit, waitListed, serveDemo, waitOnline } from './demoPage.js'

/** A name Chromium resolves to 127.0.0.1 but, not being localhost, serves over http as no secure context. */
const HOST = 'demo.test'

// The demo opened as from a phone on the LAN: plain http on a host other than localhost, where the browser has
// no crypto.randomUUID, no Web Locks and no clipboard API. The server still listens on 127.0.0.1 only.
describe.runIf(chromiumAvailable())('the demo over plain http on another host, in Chromium', () => {
  const server = serveDemo()

  it('submits and syncs, says tabs work alone, and never claims a copy it did not make', async () => {
    await using browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`])
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
    await page.getByTestId('insecure-notice').waitFor()

    const link = await page.getByTestId('device-link').inputValue()
    await page.getByTestId('copy-link').click()
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="copy-link"]')?.dataset.copy !== 'idle')
    const copied = (await page.getByTestId('copy-link').getAttribute('data-copy')) === 'copied'
    if (copied) {
      // "Copied" must be true: paste it where the test can read it.
      await page.evaluate(() => document.body.append(Object.assign(document.createElement('textarea'), { id: 'paste-here' })))
      await page.focus('#paste-here')
      await page.keyboard.press('Control+V')
      expect(await page.locator('#paste-here').inputValue()).toBe(link)
    } else {
      await page.getByTestId('copy-manual').waitFor()
      expect(await page.getByTestId('copy-link').textContent()).toBe('Copy')
      const selected = await page.evaluate(() => {
        const input = document.activeElement as HTMLInputElement
        return input.value.slice(input.selectionStart ?? 0, input.selectionEnd ?? 0)
      })
      expect(selected).toBe(link)
    }
  })
})

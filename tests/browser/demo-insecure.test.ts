import { describe, expect, it } from 'vitest'
import { chromiumAvailable, launchChromium } from './chromium.js'
import { identityOf, openDevice, serverSubmissions, submit, waitListed, serveDemo, waitOnline } from './demoPage.js'

/** A name Chromium resolves to 127.0.0.1 but, not being localhost, serves over http as no secure context. */
const HOST = 'demo.test'

// The demo opened as from a phone on the LAN: plain http on a host other than localhost, where the browser has
// no crypto.randomUUID, no Web Locks and no clipboard API. The server still listens on 127.0.0.1 only.
describe.runIf(chromiumAvailable())('the demo over plain http on another host, in Chromium', () => {
  const server = serveDemo()

  it('submits and syncs with an identity from the server, and says tabs work alone', async () => {
    await using browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`])
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
    await page.getByTestId('insecure-notice').waitFor()
  })
})

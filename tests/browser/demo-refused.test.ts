import { type CliServer, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { chromiumAvailable, launchChromium } from './chromium.js'
import { DEMO_DIST, assertDemoBuilt, identityOf, listed, openDevice, serverSubmissions, submit, waitListed, waitOnline } from './demoPage.js'

// The server's data dir is reset under an open demo (a new data dir and secret, same address): the demo must say
// what happened and offer a way out that keeps the user's data, instead of "Offline" forever. Only an identity the
// server issued can be refused so (a device key is self-certified: any server takes it): the page is opened where
// it has no WebCrypto, plain http on another host than localhost, so the server issues its identity.
const HOST = 'demo.test'
describe.runIf(chromiumAvailable())('the demo when the server no longer accepts its identity, in Chromium', () => {
  it('says so, keeps the pending writes, and starts over as a new user who gets all of them', async () => {
    assertDemoBuilt()
    const first = await startCliServer({ args: ['--static', DEMO_DIST] })
    let second: CliServer | undefined
    try {
      await using browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`])
      const { page } = await openDevice(browser, `http://${HOST}:${first.port}/`)
      await waitOnline(page)
      await submit(page, 'Synced before')
      await waitListed(page, 'Synced before', 'synced')
      const before = await identityOf(page)
      await first[Symbol.asyncDispose]()
      await page.locator('[data-testid="connection"][data-status="offline"]').waitFor({ timeout: 15_000 })
      await submit(page, 'Written offline')
      await waitListed(page, 'Written offline', 'pending')

      second = await startCliServer({ args: ['--static', DEMO_DIST, '--port', String(first.port)] })
      await page.reload()
      const banner = page.getByTestId('refused')
      await banner.waitFor({ timeout: 15_000 })
      expect(await banner.textContent()).toContain('1 change that never reached the server')
      expect(await page.getByTestId('connection').getAttribute('data-refused')).toBe('true')
      expect(await page.getByTestId('connection').textContent()).not.toContain('Offline')

      await page.getByTestId('start-over-keep').click()
      await page.waitForURL(`http://${HOST}:${second.port}/`)
      await waitOnline(page)
      await vi.waitFor(async () => expect((await listed(page)).map((s) => `${s.name} ${s.status}`).sort()).toEqual(['Synced before synced', 'Written offline synced']), {
        timeout: 15_000,
      })
      const after = await identityOf(page)
      expect(after.userId).not.toBe(before.userId)
      expect((await serverSubmissions(second, after.userId)).map((s) => s.value.name).sort()).toEqual(['Synced before', 'Written offline'])
      expect(await page.getByTestId('refused').count()).toBe(0)
    } finally {
      await second?.[Symbol.asyncDispose]()
    }
  })
})

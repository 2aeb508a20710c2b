import { type CliServer, startCliServer } from '@cubby/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type EngineBrowser, WAIT_MS } from './Engine.js'
import { engines } from './engines.js'
import { DEMO_DIST, assertDemoBuilt, attributeOf, identityOf, listed, openDevice, serverSubmissions, submit, textOf, waitListed, waitOnline } from './demoPage.js'

// The server's data dir is reset under an open demo (a new data dir and secret, same address): the demo must say
// what happened and offer a way out that keeps the user's data, instead of "Offline" forever. Only an identity the
// server issued can be refused so (a device key is self-certified: any server takes it): the page is opened where
// it has no WebCrypto, plain http on another host than localhost, so the server issues its identity.
const HOST = 'demo.test'
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('the demo when the server no longer accepts its identity', () => {
    let browser: EngineBrowser
    beforeAll(async () => {
      browser = await engine.launch({ insecureHost: HOST })
    })
    afterAll(async () => {
      await browser?.close()
    })

    it('says so, keeps the pending writes, and starts over as a new user who gets all of them', async () => {
      assertDemoBuilt()
      const first = await startCliServer({ args: ['--static', DEMO_DIST] })
      let second: CliServer | undefined
      try {
        const { page } = await openDevice(browser, `http://${HOST}:${first.port}/`)
        await waitOnline(page)
        await submit(page, 'Synced before')
        await waitListed(page, 'Synced before', 'synced')
        const before = await identityOf(page)
        await first[Symbol.asyncDispose]()
        await page.waitFor('[data-testid="connection"][data-status="offline"]', WAIT_MS)
        await submit(page, 'Written offline')
        await waitListed(page, 'Written offline', 'pending')

        second = await startCliServer({ args: ['--static', DEMO_DIST, '--port', String(first.port)] })
        await page.reload()
        await page.waitFor('[data-testid="refused"]', WAIT_MS)
        expect(await textOf(page, '[data-testid="refused"]')).toContain('1 change that never reached the server')
        expect(await attributeOf(page, '[data-testid="connection"]', 'data-refused')).toBe('true')
        expect(await textOf(page, '[data-testid="connection"]')).not.toContain('Offline')

        await page.click('[data-testid="start-over-keep"]')
        await vi.waitFor(() => expect(page.url()).toBe(`http://${HOST}:${second!.port}/`), { timeout: WAIT_MS })
        await waitOnline(page)
        await vi.waitFor(async () => expect((await listed(page)).map((s) => `${s.name} ${s.status}`).sort()).toEqual(['Synced before synced', 'Written offline synced']), {
          timeout: WAIT_MS,
        })
        const after = await identityOf(page)
        expect(after.userId).not.toBe(before.userId)
        expect((await serverSubmissions(second, after.userId)).map((s) => s.value.name).sort()).toEqual(['Synced before', 'Written offline'])
        expect(await page.evaluate(() => document.querySelectorAll('[data-testid="refused"]').length)).toBe(0)
      } finally {
        await second?.[Symbol.asyncDispose]()
      }
    })
  })
})

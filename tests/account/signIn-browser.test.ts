import { type CliServer, connectUser, startCliServer } from '@cubby/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { servePage } from '../browser/servePage.js'
import { onServer } from './serverValues.js'
import type { EngineBrowser, EnginePage } from '../browser/Engine.js'
import { engines } from '../browser/engines.js'
import type {} from './signInPage.entry.js'

// A tab closed right after the server merged: the next tab of the account, in the same profile, finishes the switch.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('an interrupted signIn', () => {
    let browser: EngineBrowser
    let server: CliServer
    let site: { url: string } & AsyncDisposable
    beforeAll(async () => {
      ;[browser, server, site] = await Promise.all([engine.launch(), startCliServer(), servePage(new URL('./signInPage.entry.ts', import.meta.url), 'signin')])
    })
    afterAll(async () => {
      await browser?.close()
      await site?.[Symbol.asyncDispose]()
      await server?.[Symbol.asyncDispose]()
    })

    async function openPage(context: Awaited<ReturnType<EngineBrowser['newContext']>>): Promise<EnginePage> {
      const page = await context.newPage()
      await page.goto(site.url)
      await page.waitForFunction(() => 'signin' in window)
      return page
    }

    it('is finished by the account\'s next tab after the tab closed right after the server merged: pending writes once, no anonymous database left', async () => {
      const context = await browser.newContext()
      const name = `app-${engine.name}`
      const account = `sam-${engine.name}`
      const first = await openPage(context)
      expect(await first.evaluate((o) => window.signin.open(o), { url: server.url, name })).toBeUndefined()
      await first.evaluate(() => window.signin.store('synced', 'anonymous'))
      await first.evaluate(() => window.signin.synced())
      await first.evaluate(() => window.signin.disconnect())
      await first.evaluate(() => window.signin.store('count', 2))
      await first.evaluate(() => window.signin.store('offline', true))
      expect(await first.evaluate(() => window.signin.pendingCount())).toBe(2)
      const anonymous = (await first.evaluate(() => window.signin.userId()))!
      await first.evaluate((token) => window.signin.signIn(token), server.token(account))
      await first.waitForFunction(() => window.signin.merged())
      await first.close()
      expect(await onServer(server, account)).toEqual({ synced: 'anonymous' })

      const anonymousAgain = await openPage(context)
      expect(await anonymousAgain.evaluate((o) => window.signin.open(o), { url: server.url, name })).toBe('FORBIDDEN')
      await anonymousAgain.close()

      const next = await openPage(context)
      expect(await next.evaluate((o) => window.signin.open(o), { url: server.url, name, token: server.token(account) })).toBeUndefined()
      await next.waitForFunction(() => window.signin.status() === 'online')
      await next.evaluate(() => window.signin.synced())
      expect(await next.evaluate(() => window.signin.pendingCount())).toBe(0)
      expect(Object.fromEntries(await next.evaluate(() => window.signin.entries()))).toEqual({ count: 2, offline: true, synced: 'anonymous' })
      expect(await onServer(server, account)).toEqual({ count: 2, offline: true, synced: 'anonymous' })
      {
        // The merge's write of `synced`, then count and offline, each once.
        await using socket = await connectUser(server, account)
        expect((await socket.next('synced')).rev).toBe(3)
      }
      expect(await next.evaluate(() => window.signin.databases())).not.toContain(`cubby:${JSON.stringify([name, anonymous])}`)
      await next.close()
    })
  })
})

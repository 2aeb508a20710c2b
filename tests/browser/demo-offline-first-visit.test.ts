import { describe, expect, it, vi } from 'vitest'
import { chromiumAvailable, launchChromium } from './chromium.js'
import { identityOf, listed, openDevice, serveDemo, serverSubmissions, submit, waitListed, waitOnline } from './demoPage.js'

// The first visit with the server unreachable: the page itself loads (a CDN, a cache), but every /v1
// request and the sync WebSocket fail. The demo must work at once and sync once the server can be reached.
describe.runIf(chromiumAvailable())('the demo on a first visit with the server unreachable, in Chromium', () => {
  const server = serveDemo()

  it('accepts submissions, shows them pending across a reload, and syncs them once the server is let through', async () => {
    await using browser = await launchChromium()
    const { context, page } = await openDevice(browser, 'about:blank')
    let blocked = true
    let v1Requests = 0
    let socketsRefused = 0
    await context.route('**/v1/**', async (route) => {
      if (!blocked) return route.fallback()
      // The client's one check of where a socket that never opened was pointed (`GET /v1/values`) is no identity request.
      const request = route.request()
      if (!(request.method() === 'GET' && new URL(request.url()).pathname.endsWith('/v1/values'))) v1Requests++
      await route.abort('connectionrefused')
    })
    await context.routeWebSocket(/\/v1\/sync$/, (ws) => {
      if (!blocked) return ws.connectToServer()
      socketsRefused++
      void ws.close({ code: 1011, reason: 'unreachable' })
    })
    await page.goto(server().url)

    const { userId } = await identityOf(page)
    expect(userId).toMatch(/^anon_key_/)
    await submit(page, 'First, offline', 1)
    await submit(page, 'Second, offline', 2)
    await waitListed(page, 'First, offline', 'pending')
    await waitListed(page, 'Second, offline', 'pending')
    await page.locator('[data-testid="connection"][data-status="offline"]').waitFor({ timeout: 15_000 })
    await vi.waitFor(() => expect(socketsRefused).toBeGreaterThan(0))

    await page.reload()
    expect((await identityOf(page)).userId).toBe(userId)
    await waitListed(page, 'First, offline', 'pending')
    await waitListed(page, 'Second, offline', 'pending')
    expect(await page.getByTestId('connection').getAttribute('data-status')).not.toBe('online')
    expect(await serverSubmissions(server(), userId)).toEqual([])
    // The identity never needed the server: not one /v1 request was made.
    expect(v1Requests).toBe(0)

    blocked = false
    // What the browser fires when the network comes back: the client retries at once instead of after its backoff.
    await page.evaluate(() => dispatchEvent(new Event('online')))
    await waitOnline(page)
    await waitListed(page, 'First, offline', 'synced')
    await waitListed(page, 'Second, offline', 'synced')
    expect((await listed(page)).map((s) => s.name).sort()).toEqual(['First, offline', 'Second, offline'])
    await vi.waitFor(async () => expect((await serverSubmissions(server(), userId)).map((s) => s.value.name).sort()).toEqual(['First, offline', 'Second, offline']))
  })
})

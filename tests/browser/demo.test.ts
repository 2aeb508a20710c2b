import { mkdir, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import type { EnginePage } from './Engine.js'
import { engines, launchedBrowser } from './engines.js'
import {
  attributeOf,
  serveDemo,
  identityOf,
  listed,
  openDevice,
  serverSubmissions,
  submit,
  textOf,
  waitListed,
  waitOnline,
} from './demoPage.js'

/** Screenshots a person can look at after the run (gitignored), one set per engine. */
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url))

/** Keeps every WebSocket the page opens in `window.sockets`, so the test can count the open sync sockets. */
const TRACK_SOCKETS = `{
  const Native = WebSocket
  const sockets = (window.sockets = [])
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols)
      sockets.push(this)
    }
  }
}`

/** How many sync WebSockets the page has open (its page must have run TRACK_SOCKETS). */
const openSyncSockets = (page: EnginePage): Promise<number> =>
  page.evaluate(() => (window as unknown as { sockets: WebSocket[] }).sockets.filter((ws) => ws.url.endsWith('/v1/sync') && ws.readyState === WebSocket.OPEN).length)

// Each real browser against the real cubby-server process serving the built demo, as a user would run it.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('the demo', () => {
    const server = serveDemo()
    const browser = launchedBrowser(engine)

    it('keeps a submission across a reload', async () => {
      const { page } = await openDevice(browser(), server().url)
      await waitOnline(page)
      await submit(page, 'Ada', 7)
      await waitListed(page, 'Ada', 'synced')
      await page.reload()
      await waitListed(page, 'Ada', 'synced')
      expect(await textOf(page, '[data-testid="submission"]')).toContain('favourite number 7')
    })

    // Typing in two tabs at once is slow over WebDriver BiDi on a loaded machine: a bound that stops by itself.
    it('shows a write in one tab live in the other, and concurrent writes in both converge without duplicates', { timeout: 60_000 }, async () => {
      const { context, page: tab1 } = await openDevice(browser(), server().url)
      await waitOnline(tab1)
      // Count the sync sockets of both tabs (tab 1 reloads so that its socket is counted too).
      await tab1.addInitScript(TRACK_SOCKETS)
      await tab1.reload()
      await waitOnline(tab1)
      const tab2 = await context.newPage()
      await tab2.addInitScript(TRACK_SOCKETS)
      await tab2.goto(server().url)
      await waitOnline(tab2)
      expect((await identityOf(tab2)).userId).toBe((await identityOf(tab1)).userId)

      await submit(tab1, 'From tab 1')
      await waitListed(tab2, 'From tab 1', 'synced')
      await submit(tab2, 'From tab 2')
      await waitListed(tab1, 'From tab 2', 'synced')
      // One tab leads and holds the only WebSocket; the other follows over BroadcastChannel.
      expect((await openSyncSockets(tab1)) + (await openSyncSockets(tab2))).toBe(1)

      // Both tabs submit at once, three times each.
      for (let round = 1; round <= 3; round++) await Promise.all([submit(tab1, `Tab 1 #${round}`), submit(tab2, `Tab 2 #${round}`)])
      const expected = ['From tab 1', 'From tab 2', 'Tab 1 #1', 'Tab 1 #2', 'Tab 1 #3', 'Tab 2 #1', 'Tab 2 #2', 'Tab 2 #3']
      for (const tab of [tab1, tab2]) for (const name of expected) await waitListed(tab, name, 'synced')
      const [list1, list2] = await Promise.all([listed(tab1), listed(tab2)])
      expect(list1.map((s) => s.name).sort()).toEqual(expected)
      expect(list2).toEqual(list1)
      expect(new Set(list1.map((s) => s.key)).size).toBe(expected.length)
      const onServer = await serverSubmissions(server(), (await identityOf(tab1)).userId)
      expect(onServer.map((e) => e.key).sort()).toEqual(list1.map((s) => s.key).sort())
    })

    it('takes a submission offline, keeps it pending across an offline reload, and syncs it when back online', async () => {
      const { context, page } = await openDevice(browser(), server().url)
      await waitOnline(page)
      // The service worker must have cached the app shell before the network goes.
      await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))
      const { userId } = await identityOf(page)

      await context.setOffline(true)
      await page.waitFor('[data-testid="connection"][data-status="offline"]')
      await submit(page, 'Written offline')
      await waitListed(page, 'Written offline', 'pending')
      await page.reload()
      await waitListed(page, 'Written offline', 'pending')
      expect(await attributeOf(page, '[data-testid="connection"]', 'data-status')).not.toBe('online')
      expect((await serverSubmissions(server(), userId)).map((e) => e.value.name)).toEqual([])

      await context.setOffline(false)
      await waitListed(page, 'Written offline', 'synced')
      await vi.waitFor(async () => expect((await serverSubmissions(server(), userId)).map((e) => e.value.name)).toEqual(['Written offline']))
    })

    it('gives each device its own user, syncs one user\'s tabs live, shows another user none of it, and puts no token in any URL', async () => {
      const laptop = await openDevice(browser(), server().url)
      await waitOnline(laptop.page)
      expect(await laptop.page.evaluate(() => document.querySelector('[data-testid="device-link"]') === null)).toBe(true)
      await laptop.page.waitFor('[data-testid="link-codes"]')
      const secondTab = await laptop.context.newPage()
      await secondTab.goto(server().url)
      await waitOnline(secondTab)
      expect((await identityOf(secondTab)).userId).toBe((await identityOf(laptop.page)).userId)
      const stranger = await openDevice(browser(), server().url)
      await waitOnline(stranger.page)
      expect((await identityOf(stranger.page)).userId).not.toBe((await identityOf(laptop.page)).userId)

      await submit(laptop.page, 'From the laptop')
      await waitListed(secondTab, 'From the laptop', 'synced')
      await secondTab.click('[data-testid="theme-toggle"]')
      await laptop.page.waitForFunction(() => document.documentElement.dataset.theme === 'dark')
      await submit(stranger.page, 'The stranger')
      await waitListed(stranger.page, 'The stranger', 'synced')
      await waitListed(laptop.page, 'From the laptop', 'synced')
      expect((await listed(stranger.page)).map((s) => s.name)).toEqual(['The stranger'])
      expect(await stranger.page.evaluate(() => document.documentElement.dataset.theme)).toBe('light')
      for (const page of [laptop.page, secondTab, stranger.page]) expect(page.url()).toBe(`${server().url}/`)
    })

    it('takes screenshots of the demo for a person to look at', async () => {
      const { page } = await openDevice(browser(), server().url)
      await waitOnline(page)
      await page.click('input[name="likesCheckboxes"]')
      await submit(page, 'Grace Hopper', 73)
      await waitListed(page, 'Grace Hopper', 'synced')
      await submit(page, 'Alan Turing', 12)
      await waitListed(page, 'Alan Turing', 'synced')
      await mkdir(RESULTS, { recursive: true })
      const files = [`demo-${engine.name}.png`, `demo-${engine.name}-dark.png`]
      await page.screenshot(`${RESULTS}${files[0]}`)
      await page.click('[data-testid="theme-toggle"]')
      await page.waitFor('[data-testid="theme-toggle"][data-status="synced"]')
      await page.waitFor('[data-testid="connection"][data-pending="0"]')
      await page.screenshot(`${RESULTS}${files[1]}`)
      for (const file of files) expect((await stat(`${RESULTS}${file}`)).size).toBeGreaterThan(10_000)
    })
  })
})

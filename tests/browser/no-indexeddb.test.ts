import { type CliServer, startCliServer } from '@cubby/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineBrowser, EnginePage } from './Engine.js'
import { engines } from './engines.js'
import { identityOf, serveDemo, serverSubmissions, submit, waitListed, waitOnline } from './demoPage.js'
import { type TabsSite, serveTabsSite } from './tabsPage.js'

/**
 * Page scripts, run before the page's own, that make every `indexedDB.open` fail the ways browsers refuse storage:
 * at once (a private mode that throws), or through the request's `error` event (the upgrade that creates the
 * database is aborted, as when the disk is full or the profile is read-only).
 */
const BREAK_INDEXEDDB = {
  throws: `IDBFactory.prototype.open = function () {
    throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError')
  }`,
  fails: `{
    const open = IDBFactory.prototype.open
    IDBFactory.prototype.open = function (...args) {
      const request = open.apply(this, args)
      request.addEventListener('upgradeneeded', () => request.transaction.abort())
      return request
    }
  }`,
} as const

/** Asserts that the page's script made IndexedDB unusable (so the test cannot pass with a working one). */
async function expectNoIndexedDB(page: EnginePage): Promise<void> {
  const opened = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        try {
          const request = indexedDB.open('probe')
          request.onsuccess = () => resolve('opened')
          request.onerror = () => resolve('failed')
        } catch {
          resolve('threw')
        }
      }),
  )
  expect(opened).not.toBe('opened')
}

// Where IndexedDB cannot be opened, the client keeps values in memory for the page's life: nothing is lost while
// the page is open, every write reaches the server, and the client says it is not persistent.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('without IndexedDB', () => {
    let browser: EngineBrowser
    let server: CliServer
    let site: TabsSite
    const demo = serveDemo()
    beforeAll(async () => {
      ;[browser, server, site] = await Promise.all([engine.launch(), startCliServer(), serveTabsSite()])
    })
    afterAll(async () => {
      await browser?.close()
      await site?.[Symbol.asyncDispose]()
      await server?.[Symbol.asyncDispose]()
    })

    const ways = Object.keys(BREAK_INDEXEDDB) as Array<keyof typeof BREAK_INDEXEDDB>

    it.each(ways)('the client falls back to memory when indexedDB.open %s, says it is neither persistent nor coordinating tabs, and syncs', async (how) => {
      const page = await (await browser.newContext()).newPage()
      await page.addInitScript(BREAK_INDEXEDDB[how])
      await page.goto(site.url)
      await page.waitForFunction(() => 'tab' in window)
      await expectNoIndexedDB(page)
      const userId = `no-idb-${how}-${engine.name}`
      await page.evaluate((o) => window.tab.open(o), { url: server.url, token: server.token(userId), name: userId })
      expect(await page.evaluate(() => window.tab.storage())).toEqual({ persistent: false, tabs: 'independent' })
      await page.evaluate(() => window.tab.storeEach('memory', 20))
      await page.evaluate(() => window.tab.synced())
      expect(await page.evaluate(() => window.tab.missing('memory', 20))).toEqual([])
      const res = await fetch(`${server.url}/v1/values?prefix=memory%2F&limit=100`, { headers: { authorization: `Bearer ${server.token(userId)}` } })
      expect(((await res.json()) as { keys: string[] }).keys).toHaveLength(20)
    })

    it.each(ways)('the demo still submits and syncs when indexedDB.open %s', async (how) => {
      const page = await (await browser.newContext()).newPage()
      await page.addInitScript(BREAK_INDEXEDDB[how])
      await page.goto(demo().url)
      await expectNoIndexedDB(page)
      await waitOnline(page)
      await submit(page, 'Without IndexedDB', 5)
      await waitListed(page, 'Without IndexedDB', 'synced')
      expect((await serverSubmissions(demo(), (await identityOf(page)).userId)).map((s) => s.value.name)).toEqual(['Without IndexedDB'])
    })
  })
})

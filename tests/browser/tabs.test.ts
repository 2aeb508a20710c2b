import { describe, expect, it, vi } from 'vitest'
import type { EnginePage as Page } from './Engine.js'
import { engines, tabsSuite } from './engines.js'

/** What the leader posted on the tab channel so far, by message type (heard by a spy in `page`). */
const heard = (page: Page): Promise<Record<string, number>> => page.evaluate(() => window.tab.heard())

/**
 * Lets a page's queued work run (the leader posts a frame once its cache write is done). A fixed wait on purpose:
 * callers count the posts, down to "none more", and no event marks that nothing more will be posted.
 */
const settle = (page: Page): Promise<void> => page.evaluate(() => new Promise<void>((resolve) => setTimeout(resolve, 100)))

/** Stores in `page` and waits until the server has it and the page settled; returns what the spy heard meanwhile. */
async function postsOfOneStore(page: Page, key: string): Promise<Record<string, number>> {
  const before = await heard(page)
  await page.evaluate((k) => window.tab.store(k, k), key)
  await page.evaluate(() => window.tab.synced())
  await settle(page)
  const after = await heard(page)
  return Object.fromEntries(Object.entries(after).flatMap(([type, n]) => (n > (before[type] ?? 0) ? [[type, n - (before[type] ?? 0)]] : [])))
}

// Tabs of one browser context share IndexedDB, BroadcastChannel and Web Locks: the real thing, in each engine.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('tabs of one app and user', () => {
    const suite = tabsSuite(engine)

    const optionsFor = (user: string) => {
      const userId = `${user}-${engine.name}`
      return { url: suite.server.url, token: suite.server.token(userId), name: `tabs-${userId}`, userId }
    }

    it('a tab opened after many writes sees all of them, and then live writes; the leader alone posts nothing', async () => {
      const context = await suite.browser.newContext()
      const options = optionsFor('ada')
      const a = await suite.site.openTab(context)
      await a.evaluate((o) => window.tab.open(o), options)
      await a.evaluate(({ name, userId }) => window.tab.spy(name, userId), options)
      await a.evaluate(() => window.tab.storeEach('before', 300))
      await a.evaluate(() => window.tab.synced())
      await settle(a)
      expect(await heard(a)).toEqual({})

      // The second tab opens while the first goes on writing: whatever the leader persists between the new tab's
      // read of the cache and its join must reach it too.
      const b = await suite.site.openTab(context)
      const during = a.evaluate(() => window.tab.storeEach('during', 200))
      await b.evaluate((o) => window.tab.open(o), options)
      await during
      await a.evaluate(() => window.tab.synced())
      await vi.waitFor(async () => expect(await b.evaluate(() => window.tab.missing('before', 300))).toEqual([]), { timeout: 15_000 })
      await vi.waitFor(async () => expect(await b.evaluate(() => window.tab.missing('during', 200))).toEqual([]), { timeout: 15_000 })

      await a.evaluate(() => window.tab.store('live', 'from a'))
      await vi.waitFor(async () => expect(await b.evaluate(() => window.tab.get('live'))).toBe('from a'), { timeout: 15_000 })
      await b.evaluate(() => window.tab.store('back', 'from b'))
      await vi.waitFor(async () => expect(await a.evaluate(() => window.tab.get('back'))).toBe('from b'), { timeout: 15_000 })
      await b.evaluate(() => window.tab.synced())
      expect(await b.evaluate(() => window.tab.status())).toBe('online')
      expect((await heard(a)).frame).toBeGreaterThan(0)
    })

    it('a follower that goes, closed cleanly or with its page, lets the leader go back to posting nothing', async () => {
      const context = await suite.browser.newContext()
      const options = optionsFor('bo')
      const [a, b, c] = [await suite.site.openTab(context), await suite.site.openTab(context), await suite.site.openTab(context)]
      await a.evaluate((o) => window.tab.open(o), options)
      await a.evaluate(({ name, userId }) => window.tab.spy(name, userId), options)
      await b.evaluate((o) => window.tab.open(o), options)
      await c.evaluate((o) => window.tab.open(o), options)
      expect(await postsOfOneStore(a, 'with-followers')).toMatchObject({ relay: 1, frame: expect.any(Number) })

      await c.evaluate(() => window.tab.close()) // says `leave`
      await b.close() // the page goes without a word; its presence lock goes with it
      let n = 0
      await vi.waitFor(async () => expect(await postsOfOneStore(a, `alone-${n++}`)).toEqual({}), { timeout: 15_000, interval: 200 })
      expect(await postsOfOneStore(a, 'still-alone')).toEqual({})
    })

    it('hands the connection over when the leader goes, to a tab that then posts nothing alone and relays to a new tab', async () => {
      const context = await suite.browser.newContext()
      const options = optionsFor('cy')
      const a = await suite.site.openTab(context)
      await a.evaluate((o) => window.tab.open(o), options)
      const b = await suite.site.openTab(context)
      await b.evaluate((o) => window.tab.open(o), options)
      await b.evaluate(({ name, userId }) => window.tab.spy(name, userId), options)
      await a.evaluate(() => window.tab.storeEach('first', 50))
      await a.evaluate(() => window.tab.synced())
      await a.close() // the leader's page goes: b takes the lock and connects

      await b.evaluate(() => window.tab.storeEach('second', 50))
      await b.evaluate(() => window.tab.synced())
      const res = await fetch(`${suite.server.url}/v1/values?prefix=second%2F&limit=1000`, { headers: { authorization: `Bearer ${options.token}` } })
      expect(((await res.json()) as { keys: string[] }).keys).toHaveLength(50)
      expect(await b.evaluate(() => window.tab.missing('first', 50))).toEqual([])
      await vi.waitFor(async () => expect(await postsOfOneStore(b, 'b-alone')).toEqual({}), { timeout: 15_000, interval: 200 })

      const c = await suite.site.openTab(context)
      await c.evaluate((o) => window.tab.open(o), options)
      await vi.waitFor(async () => expect(await c.evaluate(() => window.tab.missing('second', 50))).toEqual([]), { timeout: 15_000 })
      expect(await c.evaluate(() => window.tab.missing('first', 50))).toEqual([])
      await b.evaluate(() => window.tab.store('live', 'from b'))
      await vi.waitFor(async () => expect(await c.evaluate(() => window.tab.get('live'))).toBe('from b'), { timeout: 15_000 })
    })
  })
})

import { describe, expect, it, vi } from 'vitest'
import type { EnginePage as Page } from './Engine.js'
import { engines, tabsSuite } from './engines.js'

/** The keys the closed page wrote before it stopped hearing from the server, and after. */
const EARLY = 5
const LATE = 5
/** The values the closed page wrote to one key, one after another, after it stopped hearing from the server. */
const SEQUENCE = [1, 2, 3]

interface ServerEntry {
  key: string
  rev: number
  value: unknown
}

/** Waits until `page` shows `count` keys `prefix/0` … with their values (its own writes, or relayed ones). */
const shows = (page: Page, prefix: string, count: number): Promise<void> =>
  vi.waitFor(async () => expect(await page.evaluate(([p, n]) => window.tab.missing(p, n), [prefix, count] as const)).toEqual([]), { timeout: 15_000 })

// A page that goes with writes in the shared outbox (durable in IndexedDB, never acknowledged to it) leaves them
// to the tab that leads next, which sends them under the closed page's client id: the server must apply each
// once, in the page's order, whether it never got them or applied them and the page never heard.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())("a closed page's outbox, replayed by the next leader tab", () => {
    const suite = tabsSuite(engine)

    /** What the server holds for the user. */
    async function entriesOf(token: string): Promise<Map<string, ServerEntry>> {
      const res = await fetch(`${suite.server.url}/v1/values?values=1&limit=1000`, { headers: { authorization: `Bearer ${token}` } })
      return new Map(((await res.json()) as { entries: ServerEntry[] }).entries.map((e) => [e.key, e]))
    }

    /** How many writes the server applied for the user: the revision of one more, minus one. */
    async function appliedOf(token: string): Promise<number> {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
      const probe = await fetch(`${suite.server.url}/v1/values/probe`, { method: 'PUT', headers, body: '0' })
      return ((await probe.json()) as { rev: number }).rev - 1
    }

    it.each([
      ['never reached the server', 'push'],
      ['the server applied, but whose acks the page never got', 'ack'],
    ] as const)('sends its writes that %s once and in order, after its earlier ones were acknowledged', async (_name, drop) => {
      const context = await suite.browser.newContext()
      const userId = `replay-${drop}-${engine.name}`
      const options = { url: suite.server.url, token: suite.server.token(userId), name: `tabs-${userId}` }
      const closing = await suite.site.openTab(context)
      await closing.evaluate((o) => window.tab.open(o), options) // leads: the first tab
      const next = await suite.site.openTab(context)
      await next.evaluate((o) => window.tab.open(o), options)

      await closing.evaluate((n) => window.tab.storeEach('early', n), EARLY)
      await closing.evaluate(() => window.tab.synced())
      await closing.evaluate((frames) => window.tab.drop(frames), drop)
      await closing.evaluate((n) => window.tab.storeEach('late', n), LATE)
      for (const value of SEQUENCE) await closing.evaluate((v) => window.tab.store('sequence', v), value)
      expect(await closing.evaluate(() => window.tab.pendingCount())).toBe(LATE + SEQUENCE.length)
      // The other tab has them all (the leader relays its own writes), durable in the outbox.
      await shows(next, 'late', LATE)
      await vi.waitFor(async () => expect(await next.evaluate(() => window.tab.get('sequence'))).toBe(SEQUENCE.at(-1)), { timeout: 15_000 })
      if (drop === 'ack') {
        // The server applied at least the first round (at most two rounds go unanswered before the page waits).
        await vi.waitFor(async () => expect((await entriesOf(options.token)).has('late/0')).toBe(true), { timeout: 15_000 })
      } else expect((await entriesOf(options.token)).has('late/0')).toBe(false)
      await closing.close() // the page goes without a word: the other tab takes the lock and connects

      await vi.waitFor(async () => expect(await next.evaluate(() => window.tab.pendingCount())).toBe(0), { timeout: 15_000 })
      await next.evaluate(() => window.tab.synced())
      expect(await next.evaluate(() => window.tab.status())).toBe('online')
      const entries = await entriesOf(options.token)
      // Exactly once: one revision per write, every write there.
      expect(await appliedOf(options.token)).toBe(EARLY + LATE + SEQUENCE.length)
      const late = Array.from({ length: LATE }, (_, i) => entries.get(`late/${i}`))
      expect(late.map((e) => e?.value)).toEqual(Array.from({ length: LATE }, (_, i) => i))
      // In order: each later write at a higher revision, and the key written three times holds the last value.
      const revs = [...Array.from({ length: EARLY }, (_, i) => entries.get(`early/${i}`)!.rev), ...late.map((e) => e!.rev), entries.get('sequence')!.rev]
      expect(revs).toEqual([...revs].sort((x, y) => x - y))
      expect(new Set(revs).size).toBe(revs.length)
      expect(entries.get('sequence')!.value).toBe(SEQUENCE.at(-1))
      expect(await next.evaluate(() => window.tab.get('sequence'))).toBe(SEQUENCE.at(-1))
    })
  })
})

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
// to the tab that leads next (or leads already), which sends them under the closed page's client id: the server
// must apply each once, in the page's order, whether it never got them or applied them and no tab heard.
describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())("a closed page's outbox, replayed by the tab that leads", () => {
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
      ['led', 'never reached the server', 'push'],
      ['led', 'the server applied, unheard by any tab,', 'ack'],
      ['followed', 'never reached the server', 'push'],
      ['followed', 'the server applied, unheard by any tab,', 'ack'],
    ] as const)('a page that %s: its writes that %s go once and in order, after its earlier ones were acknowledged', async (role, _name, drop) => {
      const context = await suite.browser.newContext()
      const userId = `replay-${role}-${drop}-${engine.name}`
      const options = { url: suite.server.url, token: suite.server.token(userId), name: `tabs-${userId}` }
      // The first tab to open leads.
      const [first, second] = [await suite.site.openTab(context), await suite.site.openTab(context)]
      await first.evaluate((o) => window.tab.open(o), options)
      await second.evaluate((o) => window.tab.open(o), options)
      const [closing, other] = role === 'led' ? [first, second] : [second, first]
      // Frames are lost on the connection: the closing page's own, or the leader's that sends for it.
      const leader = first

      await closing.evaluate((n) => window.tab.storeEach('early', n), EARLY)
      await closing.evaluate(() => window.tab.synced())
      await leader.evaluate((frames) => window.tab.drop(frames), drop)
      await closing.evaluate((n) => window.tab.storeEach('late', n), LATE)
      for (const value of SEQUENCE) await closing.evaluate((v) => window.tab.store('sequence', v), value)
      expect(await closing.evaluate(() => window.tab.pendingCount())).toBe(LATE + SEQUENCE.length)
      // The other tab has them all (announced to the leader, or relayed by it), durable in the outbox.
      await shows(other, 'late', LATE)
      await vi.waitFor(async () => expect(await other.evaluate(() => window.tab.get('sequence'))).toBe(SEQUENCE.at(-1)), { timeout: 15_000 })
      if (drop === 'ack') {
        // The server applied at least the first round (at most two rounds go unanswered before the leader waits).
        await vi.waitFor(async () => expect((await entriesOf(options.token)).has('late/0')).toBe(true), { timeout: 15_000 })
      } else expect((await entriesOf(options.token)).has('late/0')).toBe(false)
      await closing.close() // the page goes without a word: its presence and election locks go with it
      if (role === 'followed') {
        // The leader's connection lost those frames: the next one sends them again.
        await leader.evaluate(() => window.tab.drop(undefined))
        await suite.server.restart()
      }

      await vi.waitFor(async () => expect(await other.evaluate(() => window.tab.pendingCount())).toBe(0), { timeout: 15_000 })
      await other.evaluate(() => window.tab.synced())
      expect(await other.evaluate(() => window.tab.status())).toBe('online')
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
      expect(await other.evaluate(() => window.tab.get('sequence'))).toBe(SEQUENCE.at(-1))
    })
  })
})

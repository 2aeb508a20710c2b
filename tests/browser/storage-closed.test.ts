import { describe, expect, it, vi } from 'vitest'
import { chromiumAvailable, launchChromium } from './chromium.js'
import { storageSuite } from './storagePage.js'

// The client's IndexedDB connection closed under it in real Chromium: another connection asks for a new
// version of the database, which makes the client close its own (it lets other tabs delete or upgrade).
describe.runIf(chromiumAvailable())('an IndexedDB connection closed under a running client in Chromium', () => {
  const suite = storageSuite()

  it('reopens it during a write burst: nothing is lost, the order is kept, and the server gets every write', async () => {
    const { server, site } = suite
    await using browser = await launchChromium()
    const context = await browser.newContext()
    const page = await site.openPage(context)
    const options = { url: server.url, token: server.token('cleo'), name: 'closed', connect: false }
    await page.evaluate((o) => window.storage.open(o), options)
    await page.evaluate(() => window.storage.storeBurst('a', 50, 100))
    // Three closes while bursts are in flight: each burst's writes wait in memory, in order, for the reopen.
    for (const prefix of ['b', 'c', 'd']) {
      await page.evaluate(async (prefix) => {
        const first = window.storage.storeBurst(prefix, 50, 100)
        await window.storage.bumpVersion('closed', 'cleo')
        await Promise.all([first, window.storage.storeBurst(`${prefix}2`, 50, 100)])
      }, prefix)
    }
    const stats = await page.evaluate(() => window.storage.stats())
    expect(stats.storage.reopens).toBeGreaterThanOrEqual(3)
    expect(stats.storage.memoryOnly).toBe(false)
    expect(await page.evaluate(() => window.storage.errors())).toEqual([])
    expect(await page.evaluate(() => window.storage.persistent())).toBe(true)
    const prefixes = ['a', 'b', 'b2', 'c', 'c2', 'd', 'd2']
    const expected = prefixes.flatMap((p) => Array.from({ length: 50 }, (_, i) => `${p}/${i}`))
    const disk = await page.evaluate(() => window.storage.disk('closed', 'cleo'))
    expect(disk.outbox).toEqual(expected)
    await page.evaluate(() => window.storage.connect())
    await page.evaluate(() => window.storage.synced())
    await vi.waitFor(async () => expect((await page.evaluate(() => window.storage.disk('closed', 'cleo'))).outbox).toEqual([]), { timeout: 15_000 })
    expect(await server.cubby.list('cleo', { limit: 1_000 })).toHaveLength(expected.length)
  })
})

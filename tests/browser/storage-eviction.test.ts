import { describe, expect, it, vi } from 'vitest'
import { chromiumAvailable, launchChromium } from './chromium.js'
import { storageSuite } from './storagePage.js'

// The site's IndexedDB deleted behind the client's back, through the DevTools protocol: what Safari's seven-day
// eviction, storage pressure or "clear site data" do.
describe.runIf(chromiumAvailable())('an evicted IndexedDB in Chromium', () => {
  const suite = storageSuite()

  it('is rebuilt from memory while the page runs, and reported with exactly the pending writes lost between reloads', async () => {
    const { server, site } = suite
    await using browser = await launchChromium()
    const context = await browser.newContext()
    const page = await site.openPage(context)
    const cdp = await context.newCDPSession(page)
    const clearIndexedDb = () => cdp.send('Storage.clearDataForOrigin', { origin: site.origin, storageTypes: 'indexeddb' })
    const options = { url: server.url, token: server.token('dana'), name: 'evict', connect: true }
    const disk = () => page.evaluate(() => window.storage.disk('evict', 'dana'))
    await page.evaluate((o) => window.storage.open(o), options)
    await page.evaluate(() => window.storage.storeBurst('x', 20, 50))
    await page.evaluate(() => window.storage.synced())
    await page.evaluate(() => window.storage.disconnect())
    await page.evaluate(() => window.storage.storeBurst('p', 10, 50))

    // While the page runs: memory has every pending write, so none is lost; the database is written again.
    await clearIndexedDb()
    await page.evaluate(() => window.storage.storeBurst('q', 5, 50))
    await vi.waitFor(async () => expect(await page.evaluate(() => window.storage.errors())).toEqual([{ code: 'CACHE_EVICTED', lostWrites: 0 }]), { timeout: 15_000 })
    const rebuilt = await disk()
    expect(rebuilt.outbox).toEqual([...Array.from({ length: 10 }, (_, i) => `p/${i}`), ...Array.from({ length: 5 }, (_, i) => `q/${i}`)])
    expect(rebuilt.entries).toBe(20)
    expect(rebuilt.cursor).toBeGreaterThan(0)
    await page.evaluate(() => window.storage.connect())
    await page.evaluate(() => window.storage.synced())

    // Between page loads: seven writes only on disk are gone with it, and the next load says exactly that.
    await page.evaluate(() => window.storage.disconnect())
    await page.evaluate(() => window.storage.storeBurst('r', 7, 50))
    await page.evaluate(() => window.storage.close())
    await clearIndexedDb()
    await site.openPage(context, page)
    await page.evaluate((o) => window.storage.open(o), options)
    expect(await page.evaluate(() => window.storage.errors())).toEqual([{ code: 'CACHE_EVICTED', lostWrites: 7 }])
    expect(await page.evaluate(() => window.storage.stats().storage)).toMatchObject({ evictions: 1, lostWrites: 7 })
    // Rehydrated from the server (a catch-up from cursor 0): everything it had, nothing of the lost writes.
    expect(await page.evaluate(() => window.storage.missing('x', 20, 50))).toEqual([])
    expect(await page.evaluate(() => window.storage.missing('p', 10, 50))).toEqual([])
    expect(await page.evaluate(() => window.storage.missing('q', 5, 50))).toEqual([])
    expect(await page.evaluate(() => window.storage.missing('r', 7, 50))).toHaveLength(7)
    expect(await page.evaluate(() => window.storage.pendingCount())).toBe(0)
    await vi.waitFor(async () => expect((await disk()).entries).toBe(35), { timeout: 15_000 })
    await page.evaluate(() => window.storage.close())
  })

  it('is rebuilt as soon as the browser closes the connection, with no write after the deletion', async () => {
    const { server, site } = suite
    await using browser = await launchChromium()
    const context = await browser.newContext()
    const page = await site.openPage(context)
    const cdp = await context.newCDPSession(page)
    const options = { url: server.url, token: server.token('dora'), name: 'evict-idle', connect: false }
    const disk = () => page.evaluate(() => window.storage.disk('evict-idle', 'dora'))
    await page.evaluate((o) => window.storage.open(o), options)
    await page.evaluate(() => window.storage.storeBurst('p', 10, 50))

    // A store checks the marker only on a new connection: the deletion's close of the connection starts the check.
    await cdp.send('Storage.clearDataForOrigin', { origin: site.origin, storageTypes: 'indexeddb' })
    await vi.waitFor(async () => expect(await page.evaluate(() => window.storage.errors())).toEqual([{ code: 'CACHE_EVICTED', lostWrites: 0 }]), { timeout: 15_000 })
    await vi.waitFor(async () => expect((await disk()).outbox).toEqual(Array.from({ length: 10 }, (_, i) => `p/${i}`)), { timeout: 15_000 })
    await page.evaluate(() => window.storage.close())
  })
})

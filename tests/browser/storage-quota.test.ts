import { describe, expect, it, vi } from 'vitest'
import { chromiumAvailable, launchChromium } from './chromium.js'
import { storageSuite } from './storagePage.js'

// A tiny quota for the site, through the DevTools protocol: the real QuotaExceededError of Chromium's IndexedDB.
describe.runIf(chromiumAvailable())('a spent storage quota in Chromium', () => {
  const suite = storageSuite()

  it('is a typed CACHE_FULL: cached values go first, no pending write is lost, and all of it is written again once the quota is raised', async () => {
    const { server, site } = suite
    await using browser = await launchChromium()
    const context = await browser.newContext()
    const page = await site.openPage(context)
    const cdp = await context.newCDPSession(page)
    const options = { url: server.url, token: server.token('eve'), name: 'quota', connect: true }
    const disk = () => page.evaluate(() => window.storage.disk('quota', 'eve'))
    // Chromium takes a lowered quota into account only before the site first uses IndexedDB (a raised one at once).
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: site.origin, quotaSize: 2_000_000 })
    await page.evaluate((o) => window.storage.open(o), options)
    const estimate = await page.evaluate(() => window.storage.estimate())
    expect(estimate).toMatchObject({ usage: expect.any(Number), quota: expect.any(Number), persisted: false })
    expect(typeof (await page.evaluate(() => window.storage.persist()))).toBe('boolean')
    // Cached server values: 40 of 20 kB, which fit.
    await page.evaluate(() => window.storage.storeBurst('cached', 40, 20_000))
    await page.evaluate(() => window.storage.synced())
    await vi.waitFor(async () => expect(await disk()).toMatchObject({ entries: 40, outbox: [] }), { timeout: 15_000 })
    expect(await page.evaluate(() => window.storage.errors())).toEqual([])
    await page.evaluate(() => window.storage.disconnect())

    // Offline writes until the quota is spent: bounded, at most 40 bursts of 5 writes of 20 kB (4 MB).
    let bursts = 0
    while (bursts < 40 && (await page.evaluate(() => window.storage.errors())).length === 0) {
      await page.evaluate((b) => window.storage.storeBurst(`pending${b}`, 5, 20_000), bursts++)
    }
    expect(await page.evaluate(() => window.storage.errors())).toEqual([{ code: 'CACHE_FULL' }])
    expect(await page.evaluate(() => window.storage.stats().storage)).toMatchObject({ full: true, memoryOnly: false })
    expect(await page.evaluate(() => window.storage.persistent())).toBe(true)
    // Every pending write is kept and readable, and so are the cached values, from memory.
    expect(await page.evaluate(() => window.storage.pendingCount())).toBe(bursts * 5)
    expect(await page.evaluate(() => window.storage.missing('cached', 40, 20_000))).toEqual([])
    for (let b = 0; b < bursts; b++) expect(await page.evaluate((b) => window.storage.missing(`pending${b}`, 5, 20_000), b)).toEqual([])
    const full = await disk()
    expect(full.entries).toBe(0)
    expect(full.cursor).toBe(0)

    // More space: the cached values and every pending write are on disk again, in order.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: site.origin })
    await vi.waitFor(async () => expect(await page.evaluate(() => window.storage.stats().storage)).toMatchObject({ full: false, unpersisted: 0 }), { timeout: 15_000 })
    const restored = await disk()
    expect(restored.entries).toBe(40)
    expect(restored.outbox).toEqual(Array.from({ length: bursts }, (_, b) => Array.from({ length: 5 }, (_, i) => `pending${b}/${i}`)).flat())
    await page.evaluate(() => window.storage.connect())
    await page.evaluate(() => window.storage.synced())
    expect(await server.cubby.list('eve', { limit: 1_000 })).toHaveLength(40 + bursts * 5)
    await page.evaluate(() => window.storage.close())
  })
})

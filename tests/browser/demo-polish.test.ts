import { describe, expect, it } from 'vitest'
import type { EnginePage as Page } from './Engine.js'
import { engines, launchedBrowser } from './engines.js'
import { attributeOf, listed, openDevice, submit, textOf, waitListed, serveDemo, waitOnline } from './demoPage.js'

/**
 * The WCAG contrast ratio of each element's rendered text color on its rendered background (the backgrounds of
 * it and its ancestors, composited; colors are read back through a canvas, so any CSS color syntax works).
 */
function contrastRatios(page: Page, selectors: readonly string[]): Promise<Record<string, number>> {
  return page.evaluate((sels) => {
    const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!
    const rgba = (css: string): number[] => {
      ctx.clearRect(0, 0, 1, 1)
      ctx.fillStyle = css
      ctx.fillRect(0, 0, 1, 1)
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data
      return [r!, g!, b!, a! / 255]
    }
    const over = (top: number[], bottom: number[]): number[] => [0, 1, 2].map((i) => top[i]! * top[3]! + bottom[i]! * (1 - top[3]!)).concat(1)
    const luminance = (c: number[]): number => {
      const [r, g, b] = c.slice(0, 3).map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4))
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
    }
    const out: Record<string, number> = {}
    for (const sel of sels) {
      const el = document.querySelector(sel)
      if (!el) throw new Error(`${sel} is not on the page`)
      const layers: number[][] = []
      for (let e: Element | null = el; e; e = e.parentElement) layers.push(rgba(getComputedStyle(e).backgroundColor))
      // The canvas behind the page is white.
      const bg = layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1])
      const fg = over(rgba(getComputedStyle(el).color), bg)
      const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x)
      out[sel] = Math.round(((hi! + 0.05) / (lo! + 0.05)) * 100) / 100
    }
    return out
  }, selectors)
}

describe.each(engines)('$label', (engine) => {
  describe.runIf(engine.available())('the demo is readable and says what it does', () => {
    const server = serveDemo()
    const browser = launchedBrowser(engine)

    it('keeps every text at 4.5:1 or more in both themes, pending counts and buttons included', async () => {
      const { context, page } = await openDevice(browser(), server().url)
      await waitOnline(page)
      await submit(page, 'Synced')
      await waitListed(page, 'Synced', 'synced')
      // Offline (the demo disconnects on the browser's offline event), a submission stays pending.
      await context.setOffline(true)
      await page.waitFor('[data-testid="connection"][data-status="offline"]')
      await submit(page, 'Pending')
      await waitListed(page, 'Pending', 'pending')
      const selectors = [
        'h1',
        'button[type="submit"]',
        'button.secondary',
        '[data-testid="theme-toggle"]',
        '.pending-count',
        '.badge-pending',
        '.badge-synced',
        '.submission-details',
        '.hint',
        '.app-footer',
      ]
      for (const theme of ['light', 'dark']) {
        if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== theme) await page.click('[data-testid="theme-toggle"]')
        await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme)
        const ratios = await contrastRatios(page, selectors)
        const low = Object.entries(ratios).filter(([, ratio]) => ratio < 4.5)
        expect(low, `${theme} theme`).toEqual([])
      }
    })

    it('refuses a name of only spaces, and labels the theme toggle with the theme and what a press does', async () => {
      const { page } = await openDevice(browser(), server().url)
      await waitOnline(page)
      await page.fill('input[name="name"]', '   ')
      await page.click('button[type="submit"]')
      await page.waitFor('.submission-form .error')
      expect(await textOf(page, '.submission-form .error')).toMatch(/name/i)
      expect(await listed(page)).toEqual([])

      const toggle = '[data-testid="theme-toggle"]'
      expect(await attributeOf(page, toggle, 'aria-label')).toBe('Theme: light (switch to dark)')
      await page.click(toggle)
      await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark')
      expect(await attributeOf(page, toggle, 'aria-label')).toBe('Theme: dark (switch to light)')
    })
  })
})

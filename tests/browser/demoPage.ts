import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startCliServer, type CliServer } from '@cubby/test-utils'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { EngineBrowser, EngineContext, EnginePage } from './Engine.js'
import { chromiumPage } from './chromiumEngine.js'
import { afterAll, beforeAll } from 'vitest'

/** The built demo that `cubby-server --static` serves. */
export const DEMO_DIST: string = fileURLToPath(new URL('../../apps/demo/dist', import.meta.url))

/** Fails with a useful message when the demo has not been built (`npm test` builds it first). */
export function assertDemoBuilt(): void {
  if (!existsSync(`${DEMO_DIST}/index.html`)) throw new Error(`${DEMO_DIST} is missing: build first (npm test does, or pnpm build)`)
}

/**
 * Starts the real cubby-server process serving the built demo once for the tests of a file (call it inside
 * `describe`), and stops it after them. @returns the server, for use inside the tests.
 */
export function serveDemo(): () => CliServer {
  let server: CliServer | undefined
  beforeAll(async () => {
    assertDemoBuilt()
    // No --allowed-origins: the server allows its own origin, whatever host name the page was opened under.
    server = await startCliServer({ args: ['--static', DEMO_DIST] })
  })
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]()
  })
  return () => server!
}

/** A submission as the demo lists it. */
export interface Listed {
  key: string
  name: string
  status: string
}

/** One browser profile (a device) with the demo open. */
export interface Device {
  readonly context: BrowserContext
  readonly page: Page
}

/** One browser profile (a device) with the demo open, in any engine. */
export interface EngineDevice {
  readonly context: EngineContext
  readonly page: EnginePage
}

/** A page of any engine, or a playwright page (of tests written for Chromium alone). */
export type AnyPage = EnginePage | Page

const asEnginePage = (page: AnyPage): EnginePage => ('engine' in page ? page : chromiumPage(page))

/** Opens the demo in a new browser context: a new device, with nothing stored. */
export async function openDevice(browser: EngineBrowser, url: string): Promise<EngineDevice>
export async function openDevice(browser: Browser, url: string): Promise<Device>
export async function openDevice(browser: EngineBrowser | Browser, url: string): Promise<EngineDevice | Device> {
  if ('contexts' in browser) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    page.on('pageerror', (error) => console.error(`[page error] ${error.message}`))
    await page.goto(url)
    return { context, page }
  }
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(url)
  return { context, page }
}

/** Waits until the demo is connected and caught up. */
export async function waitOnline(page: AnyPage): Promise<void> {
  await asEnginePage(page).waitFor('[data-testid="connection"][data-status="online"]')
}

/** Fills in and submits the form, and waits until the form took it (it clears the name once stored locally). */
export async function submit(page: AnyPage, name: string, favouriteNumber = 42): Promise<void> {
  const p = asEnginePage(page)
  await p.fill('input[name="name"]', name)
  await p.fill('input[name="favouriteNumber"]', String(favouriteNumber))
  await p.click('button[type="submit"]')
  await p.waitForFunction(() => document.querySelector<HTMLInputElement>('input[name="name"]')?.value === '')
}

/** The submissions the page lists, newest first. */
export function listed(page: AnyPage): Promise<Listed[]> {
  return asEnginePage(page).evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid="submission"]')].map((row) => ({
      key: row.dataset.key!,
      name: row.querySelector('.submission-name')!.textContent,
      status: row.dataset.status!,
    })),
  )
}

/** Waits until the page lists a submission named `name` whose status is `status`. */
export async function waitListed(page: AnyPage, name: string, status = 'synced'): Promise<void> {
  await asEnginePage(page).waitForFunction(
    ([n, s]) => [...document.querySelectorAll<HTMLElement>('[data-testid="submission"]')].some((row) => row.querySelector('.submission-name')?.textContent === n && row.dataset.status === s),
    [name, status] as const,
  )
}

/** The text of the first element matching `selector`, or null when there is none. */
export function textOf(page: AnyPage, selector: string): Promise<string | null> {
  return asEnginePage(page).evaluate((sel) => document.querySelector(sel)?.textContent ?? null, selector)
}

/** An attribute of the first element matching `selector`, or null. */
export function attributeOf(page: AnyPage, selector: string, name: string): Promise<string | null> {
  return asEnginePage(page).evaluate(([sel, n]) => document.querySelector(sel)?.getAttribute(n) ?? null, [selector, name] as const)
}

/** The user the demo shows for this device, once its client has loaded. */
export async function identityOf(page: AnyPage): Promise<{ userId: string }> {
  const p = asEnginePage(page)
  await p.waitForFunction(() => /^anon_/.test(document.querySelector('[data-testid="user-id"]')?.textContent ?? ''))
  return { userId: (await textOf(p, '[data-testid="user-id"]'))! }
}

/** What the server holds under `submission/` for a user, through the HTTP API (with a token the server signs). */
export async function serverSubmissions(server: CliServer, userId: string): Promise<Array<{ key: string; value: { name: string } }>> {
  const res = await fetch(`${server.url}/v1/values?prefix=submission%2F&values=1`, { headers: { authorization: `Bearer ${server.token(userId)}` } })
  if (!res.ok) throw new Error(`GET /v1/values answered ${res.status}`)
  return ((await res.json()) as { entries: Array<{ key: string; value: { name: string } }> }).entries
}

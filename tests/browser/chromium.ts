import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Where to look: `CHROMIUM_PATH` alone when set, else where Debian and Ubuntu put it. No browser is ever downloaded. */
const CANDIDATES = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** The Chromium these tests drive, or undefined when the machine has none. */
const CHROMIUM_PATH: string | undefined = CANDIDATES.find((path) => existsSync(path))

const HOW_TO_INSTALL = `Install it with \`sudo apt-get install chromium\` (Debian/Ubuntu; .ci/run does this in CI), or point CHROMIUM_PATH at a Chromium or Chrome binary.`

/**
 * Tells whether the browser tests can run. Without Chromium they are skipped with a loud notice, except under
 * `CI=true`, where a missing browser must fail the run rather than pass it silently.
 */
export function chromiumAvailable(): boolean {
  if (CHROMIUM_PATH !== undefined) return true
  const notice = `Chromium was not found (looked at ${CANDIDATES.join(', ')}). ${HOW_TO_INSTALL}`
  if (process.env.CI === 'true') throw new Error(`${notice} CI=true: the browser tests must run.`)
  console.warn(`\n${'!'.repeat(100)}\n!! BROWSER TESTS SKIPPED: ${notice}\n${'!'.repeat(100)}\n`)
  return false
}

/**
 * Launches headless Chromium with a fresh profile (its own temp user data dir, removed on close); `await using`
 * closes it.
 *
 * @param extraArgs - More command line switches, e.g. `--host-resolver-rules=MAP demo.test 127.0.0.1`.
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser & AsyncDisposable> {
  if (CHROMIUM_PATH === undefined) throw new Error(`Chromium was not found. ${HOW_TO_INSTALL}`)
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  })
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() })
}

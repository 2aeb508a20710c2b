// Workload 5: the browser cache in real Chromium (Debian's, driven by playwright-core). Cubby `get` of
// a cached key and awaited `store` per second, and 10,000 stores issued together; against idb-keyval
// get / set / setMany and a plain Map. Each run uses a fresh browser context, so a fresh IndexedDB.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { cubbyToken } from '../lib/token.js'
import { makeTempDir, removeDir, withTimeout } from '../lib/util.js'
import { cubbyAvailable, startServer } from '../servers/index.js'

export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

const entry = (file) => fileURLToPath(new URL(`../browser/${file}`, import.meta.url))

async function bundle(file, { minify = true } = {}) {
  const out = await build({ entryPoints: [entry(file)], bundle: true, format: 'esm', platform: 'browser', minify, write: false, logLevel: 'silent' })
  return out.outputFiles[0].text
}

/** Serves the bench page and its bundles on 127.0.0.1 (IndexedDB needs a real origin). */
async function servePage(files) {
  const scripts = Object.keys(files).map((name) => `<script type="module" src="/${name}"></script>`).join('')
  const server = createServer((req, res) => {
    const name = req.url.slice(1)
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>cubby bench</title>${scripts}`)
    else if (files[name]) res.writeHead(200, { 'content-type': 'text/javascript' }).end(files[name])
    else res.writeHead(404).end()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) }
}

const NAME = 'browser'

export async function run({ runs, quick, systems, results, log, profileArgs, profileDir }) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`)
  const withCubby = systems.includes('cubby') && cubbyAvailable()
  const files = { 'peers.js': await bundle('peers.js') }
  // Profiled pages keep their function names.
  if (withCubby) files['cubby.js'] = await bundle('cubby.js', { minify: !profileDir })
  const page = await servePage(files)
  const dataDir = await makeTempDir('browser-cubby')
  const secret = 'bench-secret-' + Math.random().toString(36).slice(2)
  const cubby = withCubby ? await startServer('cubby', { dataDir, secret, nodeArgs: profileArgs(`${NAME}-cubby-server`) }) : undefined
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })
  const params = { concurrent: 10_000, maxMs: quick ? 500 : 1500 }
  try {
    for (let r = 0; r < runs; r++) {
      const cases = [
        ['map', (p) => p.evaluate((a) => window.benchPeers.map(a), params)],
        ['idb-keyval', (p) => p.evaluate((a) => window.benchPeers.idbKeyval(a), params)],
      ]
      if (cubby) {
        const token = await cubbyToken(secret, `browser-${r}`)
        cases.push(['cubby', (p) => p.evaluate((a) => window.benchCubby(a), { ...params, url: cubby.url, token })])
        // Diagnostic: the same client that never connects, to show what the acks and echoed changes cost.
        const offlineToken = await cubbyToken(secret, `browser-offline-${r}`)
        cases.push(['cubby offline (diagnostic)', (p) => p.evaluate((a) => window.benchCubby(a), { ...params, url: cubby.url, token: offlineToken, offline: true })])
      }
      for (const [system, measure] of cases) {
        const context = await browser.newContext()
        const tab = await context.newPage()
        tab.on('pageerror', (error) => log(`  page error: ${error.message}`))
        await tab.goto(page.url)
        await tab.waitForFunction(() => window.benchPeers && (!document.querySelector('script[src="/cubby.js"]') || window.benchCubby))
        // --profile: a CPU profile of each Cubby page, over its whole measurement (get, awaited store, together).
        const cdp = profileDir && system.startsWith('cubby') ? await context.newCDPSession(tab) : undefined
        await cdp?.send('Profiler.enable')
        await cdp?.send('Profiler.start')
        const res = await withTimeout(measure(tab), 120_000, `browser ${system}`)
        if (cdp) {
          const { profile } = await cdp.send('Profiler.stop')
          const dir = `${profileDir}${NAME}-${system.replace(/\W+/g, '-').replace(/-$/, '')}`
          mkdirSync(dir, { recursive: true })
          writeFileSync(`${dir}/run-${r + 1}.cpuprofile`, JSON.stringify(profile))
        }
        await context.close()
        results.add('browser', system, 'get/s', 'ops/s', res.getPerSecond)
        results.add('browser', system, 'awaited store/s', 'ops/s', res.storePerSecond)
        results.add('browser', system, 'concurrent values/s', 'values/s', res.concurrentPerSecond)
        log(`  ${system} run ${r + 1}: get ${Math.round(res.getPerSecond)}/s, awaited store ${Math.round(res.storePerSecond)}/s, ${params.concurrent} together ${Math.round(res.concurrentPerSecond)} values/s${res.persistent === false ? ' (NOT persistent)' : ''}`)
      }
    }
  } finally {
    await browser.close()
    await cubby?.stop()
    await page.close()
    await removeDir(dataDir)
  }
}

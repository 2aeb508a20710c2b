import { readFileSync } from 'node:fs'
import type { Plugin } from 'vite'

const TEMPLATE = new URL('./src/serviceWorker.js', import.meta.url)

/**
 * Emits `sw.js`, the service worker that keeps the app shell (index.html and every built file) in a cache
 * named after this build, so that the app loads offline. Only `vite build` emits it; dev has none.
 */
export function serviceWorkerPlugin(): Plugin {
  return {
    name: 'cubby-demo-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((file) => !file.endsWith('.map'))
      const precache = ['/', ...files.map((file) => `/${file}`)]
      const version = files.filter((file) => file.startsWith('assets/')).sort().join(',')
      const source = readFileSync(TEMPLATE, 'utf8')
        .replace('self.__PRECACHE__', JSON.stringify(precache))
        .replace('self.__VERSION__', JSON.stringify(version))
      this.emitFile({ type: 'asset', fileName: 'sw.js', source })
    },
  }
}

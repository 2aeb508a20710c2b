import { Cubby } from './Cubby.js'
import type { CubbyOptions } from './CubbyOptions.js'

function checkOptions(options: CubbyOptions): void {
  const url = options?.url
  if (typeof url !== 'string' || !/^https?:\/\/[^/]/i.test(url)) {
    const hint = /^wss?:/i.test(String(url)) ? `: pass ${String(url).replace(/^ws(s?):/i, (_, s: string) => `http${s.toLowerCase()}:`)}` : ''
    throw new TypeError(`createCubby needs the server's http(s) base URL, not ${JSON.stringify(url)}${hint}`)
  }
  if (/\/v1\/*(sync\/*)?$/i.test(url)) {
    throw new TypeError(`createCubby needs the server's base URL without /v1: pass ${url.replace(/\/v1\/*(sync\/*)?$/i, '')}`)
  }
  if (options.connect !== false && (options.WebSocket ?? globalThis.WebSocket) === undefined) {
    throw new TypeError('No WebSocket: pass the `WebSocket` option, or `connect: false`')
  }
}

/**
 * Creates a Cubby client: a per-user value store with instant reads from memory, an IndexedDB cache, a
 * durable offline outbox and live sync with a Cubby server. It loads and connects in the background.
 *
 * @typeParam TSchema - The keys and their value types; any string key with any value by default.
 * @param options - See {@link CubbyOptions}; only `url` is required.
 * @returns The client; `await cubby.ready()` for the first complete sync.
 * @throws TypeError when `url` is not an http(s) base URL (a `ws:` URL, or one ending in `/v1`, is refused with the
 *   URL to pass instead), or there is no WebSocket to connect with (pass the `WebSocket` option).
 * @example
 * ```ts
 * const cubby = createCubby<{ theme: 'dark' | 'light'; cart: Item[] }>({ url: 'https://cubby.example.com' })
 * await cubby.store('theme', 'dark')
 * const cart = await cubby.get('cart') // Item[] | undefined
 * cubby.addEventListener('change', (e) => console.log(e.detail.keys))
 * ```
 */
export function createCubby<TSchema extends Record<string, unknown> = Record<string, unknown>>(options: CubbyOptions): Cubby<TSchema> {
  checkOptions(options)
  return new Cubby<TSchema>(options)
}

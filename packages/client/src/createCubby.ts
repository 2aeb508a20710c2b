import { Cubby } from './Cubby.js'
import type { CubbyOptions } from './CubbyOptions.js'

function checkOptions(options: CubbyOptions): void {
  if (typeof options?.url !== 'string' || !/^(https?|wss?):\/\/[^/]/i.test(options.url)) {
    throw new TypeError('createCubby needs an http(s) url')
  }
  if (options.connect !== false && (options.WebSocket ?? globalThis.WebSocket) === undefined) {
    throw new TypeError('No WebSocket: pass one, or connect: false')
  }
}

/**
 * Creates a Cubby client: a per-user value store with instant reads from memory, an IndexedDB cache, a
 * durable offline outbox and live sync with a Cubby server. It loads and connects in the background.
 *
 * @typeParam TSchema - The keys and their value types; any string key with any value by default.
 * @param options - See {@link CubbyOptions}; only `url` is required.
 * @returns The client; `await cubby.ready()` for the first complete sync.
 * @throws TypeError when `url` is not an http(s) URL, or there is no WebSocket to connect with.
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

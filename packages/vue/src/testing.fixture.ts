import { createRequire } from 'node:module'
import { type Cubby, type CubbyOptions, createCubby } from '@cubby/client'
import type { TestServer } from '@cubby/test-utils'
import { type Component, createApp } from 'vue'
import { CubbyPlugin, type CubbyPluginOptions } from './CubbyPlugin.js'

/** The schema every test of this package uses (the registration below is global to the test program). */
export type TestSchema = { theme: 'dark' | 'light'; count: number; note: string; [key: `todo/${string}`]: { title: string } }

declare module '@cubby/vue' {
  interface Register {
    cubby: Cubby<TestSchema>
  }
}

// The real `ws` (Node's build): under happy-dom, an import would resolve its browser stub.
const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: typeof globalThis.WebSocket }

let devices = 0

/** An unsigned token naming `userId`: enough for a client that never connects (it reads `sub` unverified). */
export const offlineToken = (userId: string): string =>
  ['{"alg":"none"}', JSON.stringify({ sub: userId })].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.'

/** A client of user `alice` that keeps values in memory and stays offline. */
export function memoryCubby(options: Partial<CubbyOptions> = {}): Cubby<TestSchema> {
  return createCubby<TestSchema>({ url: 'http://127.0.0.1:9', auth: offlineToken('alice'), cache: 'memory', connect: false, ...options })
}

/** A client of `userId` connected to a real server (values in memory: each one is its own device). */
export function serverCubby(server: TestServer, userId: string): Cubby<TestSchema> {
  return createCubby<TestSchema>({
    url: server.url,
    auth: server.token(userId),
    cache: 'memory',
    name: `vue-device-${++devices}`,
    WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 100 },
  })
}

/** A mounted Vue app; `await using` unmounts it. */
export interface Mounted extends AsyncDisposable {
  readonly container: HTMLElement
  /** The text of the element with `data-testid` = `id`. */
  text(id: string): string | null | undefined
}

/** Mounts `component` as an app with the plugin; tests wait for the DOM with `vi.waitFor`. */
export function mount(component: Component, plugin: CubbyPluginOptions): Mounted {
  const container = document.createElement('div')
  document.body.append(container)
  const app = createApp(component).use(CubbyPlugin, plugin)
  app.mount(container)
  return {
    container,
    text: (id) => container.querySelector(`[data-testid="${id}"]`)?.textContent,
    async [Symbol.asyncDispose]() {
      app.unmount()
      container.remove()
    },
  }
}

import type { Cubby, CubbyOptions } from '@cubby/client'
import type { CliServer, TestServer } from '@cubby/test-utils'
import { connectTestClient, offlineToken } from '@cubby/test-utils/clients'
import { type Component, createApp } from 'vue'
import { CubbyPlugin, type CubbyPluginOptions } from './CubbyPlugin.js'

/** The schema every test of this package uses (the registration below is global to the test program). */
export type TestSchema = { theme: 'dark' | 'light'; count: number; note: string; [key: `todo/${string}`]: { title: string } }

declare module '@cubby/vue' {
  interface Register {
    cubby: Cubby<TestSchema>
  }
}

export { offlineToken }

/** A client of user `alice` that keeps values in memory and stays offline. */
export const memoryCubby = (options: Partial<CubbyOptions> = {}): Cubby<TestSchema> =>
  connectTestClient<TestSchema>('http://127.0.0.1:9', { auth: offlineToken('alice'), cache: 'memory', connect: false, ...options })

/** A client of `userId` connected to a real server (values in memory: each one is its own device). */
export const serverCubby = (server: TestServer | CliServer, userId: string): Cubby<TestSchema> =>
  connectTestClient<TestSchema>(server.url, { auth: server.token(userId), cache: 'memory' })

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

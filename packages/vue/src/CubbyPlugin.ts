import { createCubby, type CubbyOptions } from '@cubby/client'
import type { AnyCubby } from '@cubby/client/bindings'
import { type App, type InjectionKey, type Plugin, inject, provide } from 'vue'

/** `null`: no client yet (server rendering). */
const CUBBY_KEY: InjectionKey<AnyCubby | null> = Symbol('cubby')

/** Options of {@link CubbyPlugin}: a Cubby instance, or the options to create one. */
export type CubbyPluginOptions =
  | {
      /** The client the composables use; `null` renders them in their loading state. */
      cubby: AnyCubby | null
      options?: never
    }
  | {
      /** Options for `createCubby`: the client is created at install in the browser only, and closed on `app.unmount()`. */
      options: CubbyOptions
      cubby?: never
    }

/**
 * Gives every component of the app a Cubby for the composables. On the server (no `window`), a plugin given
 * options creates no client, and the composables render `initial`.
 *
 * @example
 * ```ts
 * const cubby = createCubby<Schema>({ url: 'https://cubby.example.com' })
 * createApp(App).use(CubbyPlugin, { cubby }).mount('#app')
 * // or: .use(CubbyPlugin, { options: { url } })
 * ```
 */
export const CubbyPlugin: Plugin<[CubbyPluginOptions]> = {
  install(app: App, pluginOptions: CubbyPluginOptions) {
    if (!pluginOptions.options) {
      app.provide(CUBBY_KEY, pluginOptions.cubby)
      return
    }
    const cubby = typeof window === 'undefined' ? null : createCubby(pluginOptions.options)
    app.provide(CUBBY_KEY, cubby)
    // app.onUnmount arrived in Vue 3.5.
    app.onUnmount?.(() => void cubby?.close())
  },
}

/**
 * Gives the components below this one another Cubby (call in `setup`).
 *
 * @example
 * ```ts
 * setup() { provideCubby(createCubby({ url, auth: otherUsersToken })) }
 * ```
 */
export function provideCubby(cubby: AnyCubby | null): void {
  provide(CUBBY_KEY, cubby)
}

/**
 * The Cubby that {@link CubbyPlugin} or {@link provideCubby} gave this component, or `null` while there is none.
 *
 * @throws Error when neither did (a programming error, not a state).
 * @internal
 */
export function injectCubby(): AnyCubby | null {
  const cubby = inject(CUBBY_KEY, undefined)
  if (cubby === undefined) throw new Error('Cubby composables need app.use(CubbyPlugin, …) or provideCubby() above them')
  return cubby
}

import { getContext, setContext } from 'svelte'
import type { AnyCubby } from '@cubby/client/bindings'

const CUBBY_KEY = Symbol.for('@cubby/svelte')

/** The last argument of every store factory: an explicit client instead of the component context. */
export interface CubbyStoreOptions {
  /** The client to use; `null` keeps the store in its loading state (server rendering). @default the context's */
  cubby?: AnyCubby | null
}

/**
 * Gives the components below this one a Cubby for {@link cubby}, {@link cubbyKeys} and {@link cubbyStatus}
 * (call during component initialisation, e.g. in the root layout). Pass `null` on the server.
 *
 * @example
 * ```svelte
 * <script>
 *   import { setCubbyContext } from '@cubby/svelte'
 *   setCubbyContext(createCubby({ url: 'https://cubby.example.com' }))
 * </script>
 * ```
 */
export function setCubbyContext(cubby: AnyCubby | null): void {
  setContext(CUBBY_KEY, cubby)
}

/**
 * The client from `options`, else from the component context.
 *
 * @throws TypeError outside component initialisation without `options.cubby`; Error when no parent set one.
 * @internal
 */
export function resolveCubby(options: CubbyStoreOptions | undefined, caller: string): AnyCubby | null {
  if (options && 'cubby' in options) return options.cubby ?? null
  let cubby: AnyCubby | null | undefined
  try {
    cubby = getContext<AnyCubby | null | undefined>(CUBBY_KEY)
  } catch (cause) {
    throw new TypeError(`${caller} outside component initialisation needs { cubby } as its last argument`, { cause })
  }
  if (cubby === undefined) throw new Error(`${caller} needs setCubbyContext(cubby) in a parent component, or { cubby } as its last argument`)
  return cubby
}

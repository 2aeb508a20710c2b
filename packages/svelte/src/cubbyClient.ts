import type { Cubby } from '@cubby/client'
import { type CubbyStoreOptions, resolveCubby } from './cubbyContext.js'
import type { RegisteredSchema } from './Register.js'

/**
 * The Cubby of the component context, for what the stores do not cover (`delete`, `entries`, `synced()`,
 * `signOut()`), or `null` when the context holds none (server rendering). Call during component initialisation.
 *
 * @example
 * ```svelte
 * <script>const client = cubbyClient()</script>
 * <button onclick={() => client?.delete(id)}>Remove</button>
 * ```
 */
export function cubbyClient(options?: CubbyStoreOptions): Cubby<RegisteredSchema> | null {
  return resolveCubby(options, 'cubbyClient()')
}

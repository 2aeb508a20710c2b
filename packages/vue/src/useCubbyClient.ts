import type { Cubby } from '@cubby/client'
import { injectCubby } from './CubbyPlugin.js'
import type { RegisteredSchema } from './Register.js'

/**
 * The Cubby itself, for what the composables do not cover (`delete`, `entries`, `synced()`, `signOut()`), or
 * `null` when there is none (on the server with a plugin given options).
 *
 * @example
 * ```ts
 * const cubby = useCubbyClient()
 * const remove = (id: string) => cubby?.delete(id)
 * ```
 */
export function useCubbyClient(): Cubby<RegisteredSchema> | null {
  return injectCubby()
}

import type { Cubby } from '@cubby/client'
import { useCubbyContext } from './CubbyProvider.js'
import type { RegisteredSchema } from './Register.js'

/**
 * The Cubby itself, for what the hooks do not cover (`delete`, `entries`, `synced()`, `signOut()`), or `null`
 * before it exists (on the server, and before mount when the provider was given options).
 *
 * @example
 * ```ts
 * const cubby = useCubbyClient()
 * return <button onClick={() => cubby?.delete(id)}>Remove</button>
 * ```
 */
export function useCubbyClient(): Cubby<RegisteredSchema> | null {
  return useCubbyContext()
}

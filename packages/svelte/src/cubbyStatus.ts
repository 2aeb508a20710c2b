import type { Readable } from 'svelte/store'
import { type CubbyStoreOptions, resolveCubby } from './cubbyContext.js'
import { CubbyHub, type CubbyStatusSnapshot, INITIAL_STATUS } from '@cubby/client/bindings'
import { readableOf } from './readableOf.js'

/**
 * The client's connection and sync state as a readable store: `status` (`connecting` | `online` |
 * `offline`), `loaded`, `pendingCount`, `persistent`, `userId` and the latest background `error`.
 *
 * @example
 * ```svelte
 * <script>const state = cubbyStatus()</script>
 * <span>{$state.status}{#if $state.pendingCount}, {$state.pendingCount} pending{/if}</span>
 * ```
 */
export function cubbyStatus(options?: CubbyStoreOptions): Readable<CubbyStatusSnapshot> {
  const client = resolveCubby(options, 'cubbyStatus()')
  return readableOf(client ? CubbyHub.of(client).status : undefined, INITIAL_STATUS, (status) => status)
}

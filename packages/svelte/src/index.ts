/**
 * Svelte bindings for Cubby: stores that honour the Svelte store contract, so `$store` works with and without
 * runes. `cubby(key, initial)` is writable. Nothing touches IndexedDB at import time.
 * @module
 */

// Context and stores
export { setCubbyContext } from './cubbyContext.js'
export type { CubbyStoreOptions } from './cubbyContext.js'
export { cubby } from './cubby.js'
export type { CubbyStore } from './cubby.js'
export { cubbyKeys } from './cubbyKeys.js'
export type { CubbyKeysOptions } from './cubbyKeys.js'
export { cubbyStatus } from './cubbyStatus.js'
export { cubbyClient } from './cubbyClient.js'

// Types
export type { Register, RegisteredKey, RegisteredKeyUnder, RegisteredSchema, CubbyValue } from './Register.js'
export type { CubbyMeta, CubbyValueSnapshot, CubbyValueStatus } from '@cubby/client/bindings'
export type { CubbyStatusSnapshot } from '@cubby/client/bindings'

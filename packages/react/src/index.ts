/**
 * React bindings for Cubby, on `useSyncExternalStore`: no tearing, no re-render for other keys, StrictMode and
 * server rendering safe (hooks render `initial` on the server; nothing touches IndexedDB at import time).
 * @module
 */

// Provider and hooks
export { CubbyProvider } from './CubbyProvider.js'
export type { CubbyProviderProps } from './CubbyProvider.js'
export { useCubby } from './useCubby.js'
export type { CubbySetter, CubbyState } from './useCubby.js'
export { useCubbyKeys } from './useCubbyKeys.js'
export type { UseCubbyKeysOptions } from './useCubbyKeys.js'
export { useCubbyStatus } from './useCubbyStatus.js'
export { useCubbyClient } from './useCubbyClient.js'

// Types
export type { Register, RegisteredKey, RegisteredKeyUnder, RegisteredSchema, CubbyValue } from './Register.js'
export type { CubbyMeta, CubbyValueSnapshot, CubbyValueStatus } from '@cubby/client/bindings'
export type { CubbyStatusSnapshot } from '@cubby/client/bindings'

/**
 * Vue bindings for Cubby: a plugin and composables that return refs (`useCubby(key, initial)` is a writable
 * ref), reactive across components, tabs and devices. Nothing touches IndexedDB at import time.
 * @module
 */

// Plugin and composables
export { CubbyPlugin, provideCubby } from './CubbyPlugin.js'
export type { CubbyPluginOptions } from './CubbyPlugin.js'
export { useCubby } from './useCubby.js'
export type { CubbyRef } from './useCubby.js'
export { useCubbyKeys } from './useCubbyKeys.js'
export type { UseCubbyKeysOptions } from './useCubbyKeys.js'
export { useCubbyStatus } from './useCubbyStatus.js'
export { useCubbyClient } from './useCubbyClient.js'

// Types
export type { Register, RegisteredKey, RegisteredKeyUnder, RegisteredSchema, CubbyValue } from './Register.js'
export type { CubbyMeta, CubbyValueSnapshot, CubbyValueStatus } from '@cubby/client/bindings'
export type { CubbyStatusSnapshot } from '@cubby/client/bindings'

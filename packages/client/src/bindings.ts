/**
 * The framework-free binding core that @cubby/react, @cubby/vue and @cubby/svelte wrap: per-key, key-list and
 * status observers with one semantics (loading, pending, synced, error). In an entry of its own so that an app
 * that uses the client without a binding does not ship it.
 * @module
 */
export { CubbyHub, toCubbyError } from './bindings/CubbyHub.js'
export type { AnyCubby } from './bindings/CubbyHub.js'
export { LOADING_SNAPSHOT, createMeta } from './bindings/CubbyMeta.js'
export type { CubbyMeta, CubbyValueSnapshot, CubbyValueStatus } from './bindings/CubbyMeta.js'
export { KeyWatch } from './bindings/KeyWatch.js'
export { KeysWatch, NO_KEYS } from './bindings/KeysWatch.js'
export { INITIAL_STATUS, StatusWatch } from './bindings/StatusWatch.js'
export type { CubbyStatusSnapshot } from './bindings/StatusWatch.js'
export type { KeyUnder, SchemaOf, ValueOf } from './bindings/Registered.js'

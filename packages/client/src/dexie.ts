/**
 * The Dexie cache of Cubby, in an entry of its own so that the main bundle stays free of Dexie.
 * @module
 */
export { createDexieCache, cubbyDexieTables } from './cache/createDexieCache.js'
export type { DexieCacheOptions } from './cache/createDexieCache.js'

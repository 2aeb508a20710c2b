import type { CubbyKey } from '@cubby/client'
import type { KeyUnder, SchemaOf, ValueOf } from '@cubby/client/bindings'

/**
 * Register your Cubby's type once, and every store takes its keys and value types from its schema.
 *
 * @example
 * ```ts
 * export const cubby = createCubby<{ theme: 'dark' | 'light'; [key: `todo/${string}`]: Todo }>({ url })
 * declare module '@cubby/svelte' {
 *   interface Register { cubby: typeof cubby }
 * }
 * const theme = cubby('theme', 'light') // CubbyStore<'dark' | 'light'>
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by declaration merging
export interface Register {}

/** The registered Cubby's schema, or any string key with any value. */
export type RegisteredSchema = SchemaOf<Register>

/** A key of the registered schema (any string without one). */
export type RegisteredKey = CubbyKey<RegisteredSchema>

/** The value type of `TKey`: from the registered schema, or from `initial` when none is registered. */
export type CubbyValue<TKey extends string, TInitial> = ValueOf<RegisteredSchema, TKey, TInitial>

/** The registered keys that start with `TPrefix` (all keys when none match by type, e.g. no schema). */
export type RegisteredKeyUnder<TPrefix extends string> = KeyUnder<RegisteredSchema, TPrefix>

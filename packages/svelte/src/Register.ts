import type { Cubby, CubbyKey } from '@cubby/client'

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
export type RegisteredSchema = Register extends { cubby: Cubby<infer TSchema> } ? TSchema : Record<string, unknown>

/** A key of the registered schema (any string without one). */
export type RegisteredKey = CubbyKey<RegisteredSchema>

type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T

/** The value type of `TKey`: from the registered schema, or from `initial` when none is registered. */
export type CubbyValue<TKey extends string, TInitial> = string extends keyof RegisteredSchema
  ? Widen<TInitial>
  : TKey extends keyof RegisteredSchema
    ? RegisteredSchema[TKey]
    : never

/** The registered keys that start with `TPrefix` (all keys when none match by type, e.g. no schema). */
export type RegisteredKeyUnder<TPrefix extends string> = [Extract<RegisteredKey, `${TPrefix}${string}`>] extends [never]
  ? RegisteredKey
  : Extract<RegisteredKey, `${TPrefix}${string}`>

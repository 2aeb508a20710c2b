import type { Cubby, CubbyKey } from '../Cubby.js'

/**
 * The types a binding derives from its `Register` interface (which each binding declares itself, so that apps
 * augment the module they import). Evaluated where they are used, so a registration anywhere in the program applies.
 */

/** The schema of the Cubby a `Register` names, or any string key with any value. */
export type SchemaOf<TRegister> = TRegister extends { cubby: Cubby<infer TSchema> } ? TSchema : Record<string, unknown>

type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T

/** The value type of `TKey`: from the schema, or from `initial` when the schema is any string key. */
export type ValueOf<TSchema, TKey extends string, TInitial> = string extends keyof TSchema
  ? Widen<TInitial>
  : TKey extends keyof TSchema
    ? TSchema[TKey]
    : never

/** The keys of the schema that start with `TPrefix` (all keys when none match by type, e.g. no schema). */
export type KeyUnder<TSchema, TPrefix extends string> = [Extract<CubbyKey<TSchema>, `${TPrefix}${string}`>] extends [never]
  ? CubbyKey<TSchema>
  : Extract<CubbyKey<TSchema>, `${TPrefix}${string}`>

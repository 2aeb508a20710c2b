import type { Cubby } from '@cubby/client'
import { type CubbyMeta, type CubbyStore, cubby, cubbyClient, cubbyKeys } from '@cubby/svelte'
import type { Readable } from 'svelte/store'
import { describe, expectTypeOf, it } from 'vitest'
import type { TestSchema } from './testing.fixture.js'

// Type tests: vitest typechecks this file (typecheck in vitest.config.ts) against the schema testing.fixture.ts registers, and a wrong type fails the run.
describe('types from the registered schema', () => {
  it('types cubby() by key', () => {
    const theme = cubby('theme', 'light')
    expectTypeOf(theme).toEqualTypeOf<CubbyStore<'dark' | 'light'>>()
    expectTypeOf(theme.meta).toEqualTypeOf<Readable<CubbyMeta>>()
    expectTypeOf(theme.set).parameter(0).toEqualTypeOf<'dark' | 'light'>()
    expectTypeOf(cubby('todo/1', { title: '' })).toEqualTypeOf<CubbyStore<{ title: string }>>()
    // @ts-expect-error 'blue' is not a theme
    theme.set('blue')
    // @ts-expect-error not a key of the schema
    cubby('other', 1)
  })

  it('types keys under a prefix and the client', () => {
    expectTypeOf(cubbyKeys({ prefix: 'todo/' })).toEqualTypeOf<Readable<ReadonlyArray<`todo/${string}`>>>()
    expectTypeOf(cubbyClient()).toEqualTypeOf<Cubby<TestSchema> | null>()
  })
})

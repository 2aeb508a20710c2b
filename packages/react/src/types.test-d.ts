import type { Cubby } from '@cubby/client'
import { type CubbyMeta, type CubbySetter, useCubby, useCubbyClient, useCubbyKeys } from '@cubby/react'
import { describe, expectTypeOf, it } from 'vitest'
import type { TestSchema } from './testing.fixture.js'

// Type tests: vitest typechecks this file (typecheck in vitest.config.ts) against the schema testing.fixture.ts registers, and a wrong type fails the run.
describe('types from the registered schema', () => {
  it('types useCubby by key', () => {
    expectTypeOf(useCubby('theme', 'light')).toEqualTypeOf<[value: 'dark' | 'light', setValue: CubbySetter<'dark' | 'light'>, meta: CubbyMeta]>()
    expectTypeOf(useCubby('todo/1', { title: '' })[0]).toEqualTypeOf<{ title: string }>()
    expectTypeOf(useCubby('count', 0)[1]).parameter(0).toEqualTypeOf<number | ((current: number) => number)>()
    // @ts-expect-error 'blue' is not a theme
    useCubby('theme', 'blue')
    // @ts-expect-error not a key of the schema
    useCubby('other', 1)
  })

  it('types keys under a prefix and the client', () => {
    expectTypeOf(useCubbyKeys({ prefix: 'todo/' })).toEqualTypeOf<ReadonlyArray<`todo/${string}`>>()
    expectTypeOf(useCubbyKeys({ prefix: 'the' })).toEqualTypeOf<ReadonlyArray<'theme'>>()
    expectTypeOf(useCubbyClient()).toEqualTypeOf<Cubby<TestSchema> | null>()
  })
})

import type { Cubby } from '@cubby/client'
import { type CubbyMeta, type CubbyRef, useCubby, useCubbyClient, useCubbyKeys } from '@cubby/vue'
import { describe, expectTypeOf, it } from 'vitest'
import type { ComputedRef, Ref } from 'vue'
import type { TestSchema } from './testing.fixture.js'

// Type tests: vitest typechecks this file (typecheck in vitest.config.ts) against the schema testing.fixture.ts registers, and a wrong type fails the run.
describe('types from the registered schema', () => {
  it('types useCubby by key', () => {
    const theme = useCubby('theme', 'light')
    expectTypeOf(theme).toEqualTypeOf<CubbyRef<'dark' | 'light'>>()
    expectTypeOf(theme.value).toEqualTypeOf<'dark' | 'light'>()
    expectTypeOf(theme.meta).toEqualTypeOf<ComputedRef<CubbyMeta>>()
    expectTypeOf(useCubby(() => 'todo/1' as const, { title: '' }).value).toEqualTypeOf<{ title: string }>()
    // @ts-expect-error 'blue' is not a theme
    theme.value = 'blue'
    // @ts-expect-error not a key of the schema
    useCubby('other', 1)
  })

  it('types keys under a prefix and the client', () => {
    expectTypeOf(useCubbyKeys({ prefix: 'todo/' })).toEqualTypeOf<Readonly<Ref<ReadonlyArray<`todo/${string}`>>>>()
    expectTypeOf(useCubbyClient()).toEqualTypeOf<Cubby<TestSchema> | null>()
  })
})

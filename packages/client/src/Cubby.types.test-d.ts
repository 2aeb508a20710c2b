import { describe, expectTypeOf, it } from 'vitest'
import type { Cubby } from './Cubby.js'

interface Item {
  sku: string
  qty: number
}
type Schema = { theme: 'dark' | 'light'; cart: Item[] }

// Type tests: vitest typechecks this file (typecheck in vitest.config.ts), and a wrong type fails the run.
describe('Cubby types', () => {
  it('types keys and values by the schema', () => {
    const cubby = {} as Cubby<Schema>
    expectTypeOf(cubby.get('cart')).toEqualTypeOf<Promise<Item[] | undefined>>()
    expectTypeOf(cubby.getSnapshot('theme')).toEqualTypeOf<'dark' | 'light' | undefined>()
    expectTypeOf(cubby.getMany(['theme'])).toEqualTypeOf<Promise<Array<'dark' | 'light' | undefined>>>()
    expectTypeOf(cubby.list()).toEqualTypeOf<Promise<Array<'theme' | 'cart'>>>()
    void cubby.store('theme', 'dark')
    // @ts-expect-error 'blue' is not a theme
    void cubby.store('theme', 'blue')
    // @ts-expect-error not a key of the schema
    void cubby.get('other')
    void cubby.storeMany([
      ['theme', 'light'],
      ['cart', []],
    ])
    // @ts-expect-error a cart is not a theme
    void cubby.storeMany([['theme', []]])
  })

  it('takes any string key and any value without a schema', () => {
    const cubby = {} as Cubby
    expectTypeOf(cubby.get('anything')).toEqualTypeOf<Promise<unknown>>()
    void cubby.store('anything', { any: 'value' })
    expectTypeOf(cubby.entries()).toEqualTypeOf<Promise<Array<[key: string, value: unknown]>>>()
  })
})

import type { Cubby, SignInResult } from '@cubby/client'
import { describe, expectTypeOf, it } from 'vitest'

declare const cubby: Cubby<{ tags: string[]; theme: 'dark' | 'light' }>

describe('cubby.signIn types', () => {
  it('takes a token or a token function, and a merge function typed by the schema', () => {
    expectTypeOf(cubby.signIn('token')).resolves.toEqualTypeOf<SignInResult>()
    void cubby.signIn(async () => 'token', { prefer: 'anonymous' })
    void cubby.signIn('token', { merge: (_key, anonymousValue, accountValue) => accountValue ?? anonymousValue })
    // @ts-expect-error: prefer is 'account' or 'anonymous'
    void cubby.signIn('token', { prefer: 'device' })
    // @ts-expect-error: a merge result must fit the schema
    void cubby.signIn('token', { merge: () => 42 })
  })
})

import { describe, expect, it } from 'vitest'
import { createMemoryCache } from '../cache/createMemoryCache.js'
import { markSigningIn } from './signInMarker.js'

const marker = { account: 'alice', prefer: 'account' } as const

describe('markSigningIn', () => {
  it('sets and removes the marker on the anonymous user\'s stored identity, keeping the identity', async () => {
    const provider = createMemoryCache()
    await provider.saveIdentity({ userId: 'anon_1', token: 't' })
    expect(await markSigningIn(provider, 'anon_1', { signingIn: marker })).toBe(true)
    expect(await provider.loadIdentity()).toEqual({ userId: 'anon_1', token: 't', signingIn: marker })
    expect(await markSigningIn(provider, 'anon_1', { signingIn: undefined })).toBe(true)
    expect(await provider.loadIdentity()).toEqual({ userId: 'anon_1', token: 't' })
  })

  it('stores a refreshed identity with the marker, and deletes the identity with forget', async () => {
    const provider = createMemoryCache()
    await provider.saveIdentity({ userId: 'anon_1', token: 't', signingIn: marker })
    await markSigningIn(provider, 'anon_1', { signingIn: marker, identity: { userId: 'anon_1', token: 'fresh' } })
    expect(await provider.loadIdentity()).toEqual({ userId: 'anon_1', token: 'fresh', signingIn: marker })
    expect(await markSigningIn(provider, 'anon_1', 'forget')).toBe(true)
    expect(await provider.loadIdentity()).toBeUndefined()
  })

  it('leaves another user\'s identity, and no identity, as they are', async () => {
    const provider = createMemoryCache()
    expect(await markSigningIn(provider, 'anon_1', { signingIn: marker })).toBe(false)
    expect(await provider.loadIdentity()).toBeUndefined()
    await provider.saveIdentity({ userId: 'anon_2', token: 't' })
    expect(await markSigningIn(provider, 'anon_1', 'forget')).toBe(false)
    expect(await provider.loadIdentity()).toEqual({ userId: 'anon_2', token: 't' })
  })
})

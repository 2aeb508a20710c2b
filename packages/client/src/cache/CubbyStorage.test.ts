import { afterEach, describe, expect, it, vi } from 'vitest'
import { browserStorage } from './CubbyStorage.js'

describe('cubby.storage', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('says nothing is persisted where the page has no StorageManager', async () => {
    vi.stubGlobal('navigator', {})
    expect(await browserStorage.estimate()).toEqual({ persisted: false })
    expect(await browserStorage.persist()).toBe(false)
  })

  it('passes on what navigator.storage says', async () => {
    let asked = 0
    vi.stubGlobal('navigator', {
      storage: {
        estimate: async () => ({ usage: 10, quota: 100 }),
        persisted: async () => asked > 0,
        persist: async () => (++asked, true),
      },
    })
    expect(await browserStorage.estimate()).toEqual({ usage: 10, quota: 100, persisted: false })
    expect(await browserStorage.persist()).toBe(true)
    expect(await browserStorage.estimate()).toMatchObject({ persisted: true })
  })
})

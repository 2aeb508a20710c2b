import { createMemoryCache } from '@cubby/client'
import { connectTestClient, rawHttp, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

const TEN_MINUTES = 10 * 60 * 1000
// The server deletes a value within a second of its moment; waits allow 1.5 s past it, the extra half second for a
// loaded machine (two cores shared with other test runs). A device-side deletion is timed by the device's own timer.
const MARGIN_MS = 1500

/** When the server says the key expires (ms since the epoch), read over HTTP. */
async function serverExpiry(url: string, token: string, key: string): Promise<number | undefined> {
  const answer = await rawHttp(url, 'GET', `/v1/values/${key}`, { token })
  const at = answer.headers['x-cubby-expires-at']
  return typeof at === 'string' ? Number(at) : undefined
}

describe('expiry against the real server process', () => {
  it.each([['ahead', TEN_MINUTES], ['behind', -TEN_MINUTES]])('expires at the right moment on a device whose clock is %s by ten minutes', async (_, shift) => {
    await using server = await startCliServer()
    const token = server.token('alice')
    await using device = connectTestClient(server.url, { auth: token, now: () => Date.now() + shift })
    await device.ready()
    const deleted: number[] = []
    device.addEventListener('change', (e) => {
      if (e.detail.changes.some((c) => c.key === 'otp' && 'deleted' in c)) deleted.push(Date.now())
    })
    const before = Date.now()
    await device.store('otp', 1234, { ttl: 1000 })
    const after = Date.now()
    expect(await device.get('otp')).toBe(1234)
    await device.synced()
    // The server got the moment on its own clock: a second from the store, not ten minutes off.
    const at = (await serverExpiry(server.url, token, 'otp'))!
    expect(at).toBeGreaterThanOrEqual(before + 1000 - 50)
    expect(at).toBeLessThanOrEqual(after + 1000 + 50)
    await vi.waitFor(() => expect(deleted.length).toBeGreaterThan(0), { timeout: 5000, interval: 20 })
    // Not before the moment (a few ms of offset estimate aside), and within the margin after it.
    expect(deleted[0]!).toBeGreaterThanOrEqual(at - 50)
    expect(deleted[0]!).toBeLessThan(at + MARGIN_MS)
    expect(await device.get('otp')).toBeUndefined()
    expect(await device.list()).toEqual([])
  })

  it('reaches a device that connects after the moment as a deletion, with no client connected meanwhile', async () => {
    await using server = await startCliServer()
    const token = server.token('bo')
    const cache = createMemoryCache()
    const name = 'bo-device'
    let at: number
    {
      await using writer = connectTestClient(server.url, { auth: token, cache, name })
      await writer.ready()
      await writer.store('flag', true, { ttl: 600 })
      await writer.store('kept', 1)
      await writer.synced()
      at = (await serverExpiry(server.url, token, 'flag'))!
    }
    // The server deletes it on its own: its head moves past the two writes.
    await vi.waitFor(async () => {
      const list = await rawHttp(server.url, 'GET', '/v1/values', { token })
      expect((list.json as { keys: string[] }).keys).toEqual(['kept'])
    }, { timeout: at - Date.now() + MARGIN_MS + 1000, interval: 50 })
    await using fresh = connectTestClient(server.url, { auth: token })
    await fresh.ready()
    expect(await fresh.list()).toEqual(['kept'])
    // The same device reloaded: it held the value, and the catch-up brings its deletion.
    await using reloaded = connectTestClient(server.url, { auth: token, cache, name })
    await reloaded.ready()
    expect(await reloaded.get('flag')).toBeUndefined()
    expect(await reloaded.list()).toEqual(['kept'])
  })

  it('keeps a ttl key and the clock offset across a reload, offline', async () => {
    await using server = await startCliServer()
    const token = server.token('cy')
    const cache = createMemoryCache()
    const name = 'cy-device'
    const now = (): number => Date.now() - TEN_MINUTES
    {
      await using first = connectTestClient(server.url, { auth: token, cache, name, now })
      await first.ready()
      await first.store('draft', 'hello', { ttl: 60_000 })
      await first.synced()
    }
    // Reloaded offline: the value is there until its moment, and a new ttl is measured on the server's clock.
    await using offline = connectTestClient(server.url, { auth: token, cache, name, now, connect: false })
    expect(await offline.get('draft')).toBe('hello')
    const before = Date.now()
    await offline.store('short', 1, { ttl: 400 })
    expect(await offline.get('short')).toBe(1)
    const gone = new Promise<number>((resolve) => offline.addEventListener('change', (e) => {
      if (e.detail.changes.some((c) => c.key === 'short' && 'deleted' in c)) resolve(Date.now())
    }))
    expect(await gone).toBeGreaterThanOrEqual(before + 400 - 50)
    expect(await offline.get('short')).toBeUndefined()
    const longFrom = Date.now()
    await offline.store('long', 2, { ttl: 60_000 })
    offline.connect()
    await offline.synced()
    // Stored with the learnt offset, the server has it as expired (not ten minutes ahead): it is gone there too.
    await vi.waitFor(async () => expect(await serverExpiry(server.url, token, 'short')).toBeUndefined(), { timeout: 3000 })
    expect(await serverExpiry(server.url, token, 'draft')).toBeGreaterThan(Date.now())
    // Measured with the offset kept from before the reload: a minute on the server's clock, not ten minutes early.
    const long = (await serverExpiry(server.url, token, 'long'))!
    expect(long).toBeGreaterThanOrEqual(longFrom + 60_000 - 50)
    expect(long).toBeLessThanOrEqual(Date.now() + 60_000 + 50)
  })

  it('measures a ttl given before the cache has loaded on the server\'s clock, with the offset kept from the last session', async () => {
    await using server = await startCliServer()
    const token = server.token('ed')
    const cache = createMemoryCache()
    const name = 'ed-device'
    const now = (): number => Date.now() - TEN_MINUTES
    {
      await using first = connectTestClient(server.url, { auth: token, cache, name, now })
      await first.ready()
    }
    await using early = connectTestClient(server.url, { auth: token, cache, name, now, connect: false })
    // Before anything is awaited: the cache (and the offset in it) has not loaded yet.
    const from = Date.now()
    const stored = early.store('early', 1, { ttl: 60_000 })
    const many = early.storeMany([['many', 2]], { ttl: 60_000 })
    await Promise.all([stored, many])
    early.connect()
    await early.synced()
    // On the device's clock it would be ten minutes early, so long gone on the server.
    for (const key of ['early', 'many']) {
      const at = (await serverExpiry(server.url, token, key))!
      expect(at).toBeGreaterThanOrEqual(from + 60_000 - 50)
      expect(at).toBeLessThanOrEqual(Date.now() + 60_000 + 50)
    }
  })

  it('clears the expiry with a later store without one, and refuses a bad ttl with INVALID_VALUE', async () => {
    await using server = await startCliServer()
    const token = server.token('di')
    await using device = connectTestClient(server.url, { auth: token })
    await device.ready()
    await device.store('k', 1, { ttl: 300 })
    await device.store('k', 2)
    await device.synced()
    expect(await serverExpiry(server.url, token, 'k')).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 600)) // past the first moment: nothing may expire
    expect(await device.get('k')).toBe(2)
    expect((await rawHttp(server.url, 'GET', '/v1/values/k', { token })).status).toBe(200)
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(device.store('k', 3, { ttl })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    }
  })
})

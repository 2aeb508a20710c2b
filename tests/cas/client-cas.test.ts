import { isCubbyError, type CubbyError } from '@cubby/client'
import { connectTestClient, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

type Schema = { seat: string; counter: number; a: number; b: number; c: number }

describe('compare-and-set between devices', () => {
  it('lets exactly one of two devices take a seat at the same version; the other gets CONFLICT and shows the winner', async () => {
    await using server = await startCliServer()
    const token = server.token('seats')
    await using alice = connectTestClient<Schema>(server.url, { auth: token })
    await using bob = connectTestClient<Schema>(server.url, { auth: token })
    await alice.store('seat', 'nobody')
    await alice.synced()
    await vi.waitFor(async () => expect(await bob.get('seat')).toBe('nobody'))
    const [a, b] = await Promise.all([alice.getEntry('seat'), bob.getEntry('seat')])
    expect(a.version).toBeGreaterThan(0)
    expect(b.version).toBe(a.version)
    const errors: CubbyError[] = []
    for (const device of [alice, bob]) device.addEventListener('error', (e) => errors.push(e.detail.error))

    const verdicts = await Promise.allSettled([
      alice.store('seat', 'alice', { ifVersion: a.version }).settled,
      bob.store('seat', 'bob', { ifVersion: b.version }).settled,
    ])
    const won = verdicts.findIndex((v) => v.status === 'fulfilled')
    const lost = verdicts.findIndex((v) => v.status === 'rejected')
    expect(won).not.toBe(-1)
    expect(lost).not.toBe(-1)
    expect(isCubbyError((verdicts[lost] as PromiseRejectedResult).reason, 'CONFLICT')).toBe(true)
    expect(errors.map((e) => e.code)).toEqual(['CONFLICT'])
    const winner = won === 0 ? 'alice' : 'bob'
    const loser = lost === 0 ? alice : bob
    // Rolled back to the server's value: by the time the verdict is in, the winner's value shows.
    expect(await loser.get('seat')).toBe(winner)
    expect(loser.isPending('seat')).toBe(false)
    expect((await loser.getEntry('seat')).version).toBeGreaterThan(a.version)
  })

  it('checks a condition made offline when the write reaches the server, and rolls it back there', async () => {
    await using server = await startCliServer()
    const token = server.token('offline-cas')
    await using online = connectTestClient<Schema>(server.url, { auth: token })
    await using offline = connectTestClient<Schema>(server.url, { auth: token })
    await offline.ready()
    await offline.synced()
    offline.disconnect()
    const write = offline.store('seat', 'offline', { ifAbsent: true })
    await write
    expect(await offline.get('seat')).toBe('offline')
    await online.store('seat', 'online')
    await online.synced()
    offline.connect()
    await expect(write.settled).rejects.toMatchObject({ code: 'CONFLICT' })
    expect(await offline.get('seat')).toBe('online')
  })

  it('counts every increment of two offline devices once both are back: 200', async () => {
    await using server = await startCliServer()
    const token = server.token('counter')
    await using a = connectTestClient<Schema>(server.url, { auth: token })
    await using b = connectTestClient<Schema>(server.url, { auth: token })
    await Promise.all([a.ready(), b.ready()])
    await Promise.all([a.synced(), b.synced()])
    a.disconnect()
    b.disconnect()
    const settled: Array<Promise<void>> = []
    for (let i = 0; i < 100; i++) {
      settled.push(a.update('counter', (n = 0) => n + 1).settled)
      settled.push(b.update('counter', (n = 0) => n + 1).settled)
    }
    expect(await a.get('counter')).toBe(100)
    expect(await b.get('counter')).toBe(100)
    a.connect()
    b.connect()
    await Promise.all(settled)
    await vi.waitFor(async () => {
      expect(await a.get('counter')).toBe(200)
      expect(await b.get('counter')).toBe(200)
    })
    const res = await fetch(`${server.url}/v1/values/counter`, { headers: { authorization: `Bearer ${token}` } })
    expect(await res.json()).toBe(200)
  })

  it('reports a conflicted update after a reload instead of retrying it, and rolls it back', async () => {
    await using server = await startCliServer()
    const token = server.token('reload-update')
    await using other = connectTestClient<Schema>(server.url, { auth: token })
    await other.store('counter', 1)
    await other.synced()
    const name = 'reload-update-device'
    {
      await using tab = connectTestClient<Schema>(server.url, { auth: token, name })
      await vi.waitFor(async () => expect(await tab.get('counter')).toBe(1))
      tab.disconnect()
      await tab.update('counter', (n = 0) => n + 10)
    }
    await other.store('counter', 5)
    await other.synced()
    await using reloaded = connectTestClient<Schema>(server.url, { auth: token, name })
    const error = new Promise<CubbyError>((resolve) => reloaded.addEventListener('error', (e) => resolve(e.detail.error)))
    expect((await error).code).toBe('CONFLICT')
    await vi.waitFor(async () => expect(await reloaded.get('counter')).toBe(5))
  })
})

describe('atomic batches from the client', () => {
  it('applies all writes of a batch, or none when one condition fails, here and on the server', async () => {
    await using server = await startCliServer()
    const token = server.token('batch')
    await using device = connectTestClient<Schema>(server.url, { auth: token })
    await using other = connectTestClient<Schema>(server.url, { auth: token })
    await device.store('a', 1)
    await device.synced()
    const { version } = await device.getEntry('a')
    await device.batch((tx) => {
      tx.store('a', 2, { ifVersion: version })
      tx.store('b', 2, { ifAbsent: true })
    }).settled
    const failed = device.batch((tx) => {
      tx.store('a', 3, { ifVersion: version })
      tx.store('c', 3)
    })
    await failed
    expect(await device.get('c')).toBe(3)
    await expect(failed.settled).rejects.toMatchObject({ code: 'CONFLICT' })
    expect(await device.get('a')).toBe(2)
    expect(await device.get('c')).toBeUndefined()
    await vi.waitFor(async () => expect([await other.get('a'), await other.get('b'), await other.get('c')]).toEqual([2, 2, undefined]))
  })
})

describe('update while online', () => {
  it('counts every increment of two online devices that race, with updates built on pending ones', async () => {
    await using server = await startCliServer()
    const token = server.token('race')
    for (const cache of ['memory', 'indexeddb'] as const) {
      await using a = connectTestClient<Schema>(server.url, { auth: token, cache })
      await using b = connectTestClient<Schema>(server.url, { auth: token, cache })
      await Promise.all([a.synced(), b.synced()])
      await a.store('counter', 0)
      await a.synced()
      await vi.waitFor(async () => expect(await b.get('counter')).toBe(0))
      const settled: Array<Promise<void>> = []
      // Some updates in one tick (folded into one write), some after a pause (built on a write in flight).
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 5; i++) settled.push(a.update('counter', (n = 0) => n + 1).settled, b.update('counter', (n = 0) => n + 1).settled)
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      await Promise.all(settled)
      await vi.waitFor(async () => {
        expect(await a.get('counter')).toBe(100)
        expect(await b.get('counter')).toBe(100)
      })
    }
  })
})

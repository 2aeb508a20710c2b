import { connectTestClient, startRemoteDevice, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { structuredCloneBattery } from './battery.js'

// Device B runs in a child process: Node's global BroadcastChannel cannot carry anything between the two,
// so whatever B sees travelled through the real server.
describe('live sync between devices', () => {
  it('shows a write of one device on another device of the same user, both ways, live', async () => {
    await using server = await startCliServer()
    await using laptop = connectTestClient(server.url, { auth: server.token('alice') })
    await using phone = await startRemoteDevice(server.url, { auth: server.token('alice') })
    await laptop.ready()
    await phone.call('ready')

    await laptop.store('greeting', { text: 'hi from laptop' })
    await vi.waitFor(async () => expect(await phone.call('get', 'greeting')).toEqual({ text: 'hi from laptop' }))
    expect(phone.events).toContainEqual({ event: 'change', keys: ['greeting'], origin: 'remote' })

    await phone.call('store', 'reply', 'hi from phone')
    await vi.waitFor(async () => expect(await laptop.get('reply')).toBe('hi from phone'))
  })

  it('never shows a user the writes of another user', async () => {
    await using server = await startCliServer()
    await using alice = connectTestClient(server.url, { auth: server.token('alice') })
    await using aliceTwo = connectTestClient(server.url, { auth: server.token('alice') })
    await using bob = connectTestClient(server.url, { auth: server.token('bob') })
    const bobChanges: string[] = []
    bob.addEventListener('change', (e) => bobChanges.push(...e.detail.keys))
    await Promise.all([alice.ready(), aliceTwo.ready(), bob.ready()])

    await alice.store('secret', 'alice only')
    await alice.store('barrier', 1)
    // By the time alice's second device has the later write, the server has published the earlier one.
    await vi.waitFor(async () => expect(await aliceTwo.get('barrier')).toBe(1))
    await bob.store('bob-barrier', 1)
    await bob.synced()

    expect(await bob.get('secret')).toBeUndefined()
    expect(await bob.list()).toEqual(['bob-barrier'])
    expect(bobChanges).toEqual(['bob-barrier'])
    const res = await fetch(`${server.url}/v1/values`, { headers: { authorization: `Bearer ${server.token('bob')}` } })
    expect(await res.json()).toEqual({ keys: ['bob-barrier'], next: null })
  })

  it('carries every structured-clone type from one device to another unchanged', async () => {
    await using server = await startCliServer()
    await using laptop = connectTestClient(server.url, { auth: server.token('carol') })
    await using phone = await startRemoteDevice(server.url, { auth: server.token('carol') })
    const battery = structuredCloneBattery()
    for (const [key, value] of Object.entries(battery)) await laptop.store(key, value)
    await laptop.synced()

    for (const [key, value] of Object.entries(battery)) {
      const received = await vi.waitFor(async () => {
        const keys = await phone.call<string[]>('list')
        expect(keys).toContain(key)
        return phone.call('get', key)
      })
      // The reference is what structuredClone does to the same value.
      expect(received, key).toStrictEqual(structuredClone(value))
    }
    const cyclic = await phone.call<Record<string, unknown>>('get', 'cyclic')
    expect(cyclic.self).toBe(cyclic)
    const twice = await phone.call<Record<string, unknown>>('get', 'sharedTwice')
    expect(twice.left).toBe(twice.right)
    const sparse = await phone.call<unknown[]>('get', 'sparse')
    expect(1 in sparse).toBe(false)
    expect(sparse).toHaveLength(11)
    expect(Object.is(await phone.call('get', 'negativeZero'), -0)).toBe(true)
    expect('a' in (await phone.call<object>('get', 'objectWithUndefined'))).toBe(true)
    const views = await phone.call<[Uint8Array, DataView]>('get', 'viewsOnOneBuffer')
    expect(views[0].buffer).toBe(views[1].buffer)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('rejects a value structuredClone rejects, and writes nothing', async () => {
    await using server = await startCliServer()
    await using client = connectTestClient(server.url, { auth: server.token('dave') })
    await expect(client.store('fn', { onClick: () => 1 })).rejects.toMatchObject({ name: 'CubbyError', code: 'INVALID_VALUE' })
    await expect(client.store('sym', Symbol('s'))).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    expect(await client.get('fn')).toBeUndefined()
    expect(client.pendingCount).toBe(0)
    await expect(client.store('', 1)).rejects.toMatchObject({ code: 'INVALID_KEY' })
    await expect(client.store('x'.repeat(1025), 1)).rejects.toMatchObject({ code: 'INVALID_KEY' })
  })
})

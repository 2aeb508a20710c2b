import { randomUUID } from 'node:crypto'
import { type Cubby, type CubbyErrorDetail, isCubbyError } from '@cubby/client'
import { DEVICE_USER_PREFIX } from '@cubby/protocol'
import { type CliServer, connectTestClient, startCliServer } from '@cubby/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'

let server: CliServer
beforeAll(async () => {
  // Every new key and every redemption spends one of the address's new identities: room for the whole file.
  server = await startCliServer({ args: ['--identity-burst', '1000'] })
})
afterAll(async () => {
  await server?.[Symbol.asyncDispose]()
})

/** A WebSocket class that counts the sockets a client opens. */
function countedSockets(): { WebSocket: typeof globalThis.WebSocket; opened: () => number } {
  let opened = 0
  class Counted extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args)
      opened++
    }
  }
  return { WebSocket: Counted as unknown as typeof globalThis.WebSocket, opened: () => opened }
}

/** The errors a client reports, as they come. */
function errorsOf(client: Cubby): CubbyErrorDetail[] {
  const errors: CubbyErrorDetail[] = []
  client.addEventListener('error', (e) => errors.push(e.detail))
  return errors
}

/** A device (its own fake IndexedDB, by name) that joins the user of `from` with a link code. */
async function linkNewDevice(from: Cubby, label: string): Promise<{ name: string; cubby: Cubby }> {
  const name = `device-${randomUUID()}`
  const fresh = connectTestClient(server.url, { name })
  await fresh.ready()
  const { code } = await from.devices.link()
  const { cubby, userId } = await fresh.devices.redeem(code, { label })
  expect(userId).toBe(from.userId)
  return { name, cubby }
}

describe('devices on the client, against the real server process', () => {
  it('links a device whose cache is memory only: the new client is that user and syncs, for as long as the page lives', async () => {
    await using a = connectTestClient(server.url)
    await a.ready()
    await a.store('from-a', 1)
    await using fresh = connectTestClient(server.url, { name: `memory-${randomUUID()}`, cache: 'memory' })
    await fresh.ready()
    const { code } = await a.devices.link()
    const { cubby, userId } = await fresh.devices.redeem(code, { label: 'Kiosk' })
    await using b = cubby
    expect(userId).toBe(a.userId)
    await b.ready()
    expect(b.userId).toBe(a.userId)
    expect(await b.get('from-a')).toBe(1)
    await b.store('from-b', 2)
    await vi.waitFor(async () => expect(await a.get('from-b')).toBe(2))
    expect((await a.devices.list()).map((d) => d.label)).toContain('Kiosk')
  })

  it('links a second device: both see each other\'s writes live, a reload stays linked, the list marks the current one', async () => {
    await using a = connectTestClient(server.url)
    await a.ready()
    await a.store('from-a', 1)
    const { name, cubby } = await linkNewDevice(a, 'Phone')
    {
      await using b = cubby
      await b.ready()
      expect(b.userId).toBe(a.userId)
      expect(await b.get('from-a')).toBe(1)
      await b.store('from-b', 2)
      await vi.waitFor(async () => expect(await a.get('from-b')).toBe(2))
      await a.store('from-a', 3)
      await vi.waitFor(async () => expect(await b.get('from-a')).toBe(3))
    }
    // A reload of the linked device: the same key, stored with the new user.
    await using reloaded = connectTestClient(server.url, { name })
    await reloaded.ready()
    expect(reloaded.userId).toBe(a.userId)
    expect(await reloaded.get('from-b')).toBe(2)
    const seenByA = await a.devices.list()
    expect(seenByA.map((d) => [d.label, d.current])).toEqual(expect.arrayContaining([['', true], ['Phone', false]]))
    expect(seenByA).toHaveLength(2)
    const seenByB = await reloaded.devices.list()
    expect(seenByB.find((d) => d.label === 'Phone')).toMatchObject({ current: true })
  })

  it('gives a link URL with the code in its fragment', async () => {
    await using a = connectTestClient(server.url)
    const { code, url, expiresAt } = await a.devices.link({ pageUrl: 'https://app.example/demo/?x=1', ttlSeconds: 60 })
    expect(url).toBe(`https://app.example/demo/?x=1#link=${code}`)
    expect(expiresAt).toBeGreaterThan(Date.now())
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 61_000)
  })

  it('revokes a device: its client reports UNAUTHORIZED revoked, stops connecting, and is refused after a reload', async () => {
    await using a = connectTestClient(server.url)
    await a.ready()
    const { name, cubby } = await linkNewDevice(a, 'Lost phone')
    await cubby.close()
    const sockets = countedSockets()
    await using b = connectTestClient(server.url, { name, WebSocket: sockets.WebSocket, reconnect: { minDelayMs: 5, maxDelayMs: 10 } })
    const errors = errorsOf(b)
    await b.ready()
    const phone = (await a.devices.list()).find((d) => d.label === 'Lost phone')!
    await a.devices.revoke(phone.id)
    await vi.waitFor(() => expect(errors).toContainEqual({ error: expect.objectContaining({ code: 'UNAUTHORIZED', reason: 'revoked' }), stopped: 'identity' }))
    expect(b.status).toBe('offline')
    const opened = sockets.opened()
    // A client that retried would open a socket every 5-10 ms: give it many server round trips of time to.
    for (let i = 0; i < 30; i++) await a.store('tick', i).then(() => a.synced())
    expect(sockets.opened()).toBe(opened)
    await expect(b.store('after', 1)).resolves.toBeUndefined()
    expect(b.pendingCount).toBe(1)
    expect((await a.devices.list()).find((d) => d.id === phone.id)?.revokedAt).toEqual(expect.any(Number))

    await b.close()
    await using reloaded = connectTestClient(server.url, { name })
    const refused = errorsOf(reloaded)
    await vi.waitFor(() => expect(refused).toContainEqual({ error: expect.objectContaining({ code: 'UNAUTHORIZED', reason: 'revoked' }), stopped: 'identity' }))
    await expect(reloaded.devices.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED', reason: 'revoked' })
  })

  it('refuses a used code and an expired code with NOT_FOUND, and the device stays who it was', async () => {
    await using a = connectTestClient(server.url)
    await a.ready()
    const { cubby } = await linkNewDevice(a, 'First')
    await cubby.close()
    const used = await a.devices.link()
    await using first = connectTestClient(server.url)
    await first.ready()
    const taken = await first.devices.redeem(used.code)
    await taken.cubby.close()
    await using late = connectTestClient(server.url)
    await late.ready()
    const own = late.userId!
    const error = await late.devices.redeem(used.code).catch((e: unknown) => e)
    expect(isCubbyError(error, 'NOT_FOUND')).toBe(true)

    const short = await a.devices.link({ ttlSeconds: 1 })
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(short.expiresAt + 100), { timeout: 5_000, interval: 100 })
    await expect(late.devices.redeem(short.code)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    // Refused: still its own user, open and syncing.
    expect(late.userId).toBe(own)
    expect(own.startsWith(DEVICE_USER_PREFIX)).toBe(true)
    await late.store('still', 'mine')
    await late.synced()
    expect((await a.devices.list()).map((d) => d.label).sort()).toEqual(['', '', 'First'])
  })

  it('refuses to redeem while writes are pending, unless told to discard them', async () => {
    await using a = connectTestClient(server.url)
    await a.ready()
    const { code } = await a.devices.link()
    await using offline = connectTestClient(server.url, { connect: false })
    await offline.store('unsent', 1)
    await expect(offline.devices.redeem(code)).rejects.toMatchObject({ code: 'PENDING_WRITES' })
    expect(offline.pendingCount).toBe(1)
    const { cubby, userId } = await offline.devices.redeem(code, { discardPending: true, label: 'Was offline' })
    await using linked = cubby
    expect(userId).toBe(a.userId)
    // The new client has the same options: connect: false too.
    expect(linked.status).toBe('offline')
    linked.connect()
    await linked.ready()
    expect(await linked.get('unsent')).toBeUndefined()
    await expect(offline.get('unsent')).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('refuses redeem on a client whose user comes from the app\'s tokens', async () => {
    await using app = connectTestClient(server.url, { auth: server.token(`user-${randomUUID()}`) })
    await expect(app.devices.redeem('x'.repeat(43))).rejects.toThrow(TypeError)
  })
})

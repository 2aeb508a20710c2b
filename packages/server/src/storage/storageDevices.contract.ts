import { beforeEach, describe, expect, it } from 'vitest'
import type { DeviceRecord, DeviceRegistry } from '../auth/DeviceRegistry.js'
import type { StorageContractFixture, StorageContractOptions } from './storage.contract.js'

const jwk = { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) } as const
const device = (id: string, label = ''): DeviceRecord => ({ id, jwk, label, createdAt: 1_700_000_000_000 })

function registry(f: StorageContractFixture): DeviceRegistry {
  const { devices } = f.storage
  if (devices === undefined) throw new Error('the storage keeps no devices')
  return devices
}

type Setup = (options?: StorageContractOptions) => Promise<StorageContractFixture>

/** A fixture whose registry holds `devices` (user id, device id), each added under a bound of 5; `await using` it. */
async function setupWith(setup: Setup, devices: ReadonlyArray<readonly [userId: string, id: string]>): Promise<StorageContractFixture> {
  const f = await setup()
  try {
    for (const [userId, id] of devices) expect(await registry(f).addDevice(userId, device(id), 5)).toBe('added')
    return f
  } catch (error) {
    await f[Symbol.asyncDispose]()
    throw error
  }
}

/** The devices part of the storage contract: link codes are single use, bounded and expire; devices are bounded and revocations stick. @internal */
export function runDevicesContract(setup: Setup): void {
  describe('devices', () => {
    // Real time: Redis expires a code's keys by the clock.
    let now = 0
    let link = { expiresAt: 0, now: 0, max: 2 }
    beforeEach(() => {
      now = Date.now()
      link = { expiresAt: now + 60_000, now, max: 2 }
    })

    it('hands a link code out once, to one of many concurrent takers', async () => {
      await using f = await setup()
      const r = registry(f)
      expect(await r.createLink('u ü', 'h1', link)).toBe(0)
      const taken = await Promise.all(Array.from({ length: 8 }, () => r.redeemLink('h1', now + 1)))
      expect(taken.filter((t) => t !== undefined)).toEqual([{ userId: 'u ü', expiresAt: now + 60_000 }])
      expect(await r.redeemLink('h1', now + 2)).toBeUndefined()
      expect(await r.redeemLink('never made', now)).toBeUndefined()
    })

    it('refuses an expired code, and counts only live codes against the bound', async () => {
      await using f = await setup()
      const r = registry(f)
      // The calls pass a `now` beyond the short code's expiry well before the clock gets there.
      expect(await r.createLink('u', 'a', { ...link, expiresAt: now + 5000 })).toBe(0)
      expect(await r.createLink('u', 'b', link)).toBe(0)
      expect(await r.createLink('u', 'c', link)).toBe(5000)
      expect(await r.createLink('v', 'd', link)).toBe(0)
      expect(await r.redeemLink('a', now + 5000)).toBeUndefined()
      expect(await r.createLink('u', 'c', { ...link, now: now + 5001 })).toBe(0)
      expect(await r.redeemLink('c', now + 5002)).toMatchObject({ userId: 'u' })
    })

    it('registers devices once, bounded, and keeps a revoked one out for good', async () => {
      await using f = await setup()
      const r = registry(f)
      expect(await r.addDevice('u', device('k1', 'phone'), 2)).toBe('added')
      expect(await r.addDevice('u', device('k1', 'other'), 2)).toBe('exists')
      expect(await r.addDevice('u', device('k2'), 2)).toBe('added')
      expect(await r.addDevice('u', device('k3'), 2)).toBe('full')
      expect(await r.addDevice('v', device('k3'), 2)).toBe('added')
      expect(await r.device('u', 'k1')).toEqual(device('k1', 'phone'))
      expect(await r.revokeDevice('u', 'k1', now)).toBe(true)
      expect(await r.revokeDevice('u', 'k1', now + 5)).toBe(false)
      expect(await r.device('u', 'k1')).toEqual({ ...device('k1', 'phone'), revokedAt: now })
      expect(await r.addDevice('u', device('k1'), 5)).toBe('revoked')
      expect((await r.devices('u')).map((d) => [d.id, d.revokedAt])).toEqual([['k1', now], ['k2', undefined]])
      expect(await r.devices('v')).toEqual([device('k3')])
    })

    it('keeps when a device was last seen: only on a live record, never backwards, never creating one', async () => {
      await using f = await setupWith(setup, [['u', 'k1'], ['u', 'k2']])
      const r = registry(f)
      await r.seeDevice('u', 'k1', now)
      await r.seeDevice('u', 'k1', now - 1000)
      expect(await r.device('u', 'k1')).toEqual({ ...device('k1'), lastSeen: now })
      await r.seeDevice('u', 'k1', now + 60_000)
      expect((await r.device('u', 'k1'))?.lastSeen).toBe(now + 60_000)
      await r.revokeDevice('u', 'k2', now)
      await r.seeDevice('u', 'k2', now + 1)
      await r.seeDevice('u', 'never linked', now)
      await r.seeDevice('v', 'k1', now)
      expect(await r.device('u', 'k2')).toEqual({ ...device('k2'), revokedAt: now })
      expect(await r.device('u', 'never linked')).toBeUndefined()
      expect(await r.devices('v')).toEqual([])
      await r.deleteUser('u')
      await r.seeDevice('u', 'k1', now + 120_000)
      expect(await r.devices('u')).toEqual([])
    })

    it('revokes a key that was never linked (a self-certified user\'s own key)', async () => {
      await using f = await setup()
      const r = registry(f)
      expect(await r.revokeDevice('anon_key_t', 't', now)).toBe(true)
      expect(await r.device('anon_key_t', 't')).toEqual({ id: 't', label: '', createdAt: 0, revokedAt: now })
    })

    it('removes a deleted user\'s devices and voids their codes, and no one else\'s', async () => {
      await using f = await setupWith(setup, [['u', 'k1'], ['v', 'k1']])
      const r = registry(f)
      await r.createLink('u', 'cu', link)
      await r.createLink('v', 'cv', link)
      await r.deleteUser('u')
      expect(await r.devices('u')).toEqual([])
      expect(await r.redeemLink('cu', now)).toBeUndefined()
      expect(await r.devices('v')).toEqual([device('k1')])
      expect(await r.redeemLink('cv', now)).toMatchObject({ userId: 'v' })
    })

    it('keeps devices and codes across a reopen', async () => {
      await using f = await setupWith(setup, [['u', 'k1']])
      await registry(f).createLink('u', 'h', link)
      await f.reopen()
      expect(await registry(f).devices('u')).toEqual([device('k1')])
      expect(await registry(f).redeemLink('h', now)).toMatchObject({ userId: 'u' })
    })
  })
}

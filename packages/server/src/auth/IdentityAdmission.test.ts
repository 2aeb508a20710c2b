import { describe, expect, it } from 'vitest'
import { IdentityAdmission } from './IdentityAdmission.js'

describe('IdentityAdmission', () => {
  it('charges an address for new users only, shares the budget with takeNew, and remembers a bounded number', async () => {
    const written = new Set(['has-data'])
    const admission = new IdentityAdmission({ rate: { perSecond: 0.001, burst: 3 }, head: async (u) => (written.has(u) ? 5 : 0), maxKnown: 2 })
    expect(await admission.admit('has-data', 'a')).toBe(0)
    expect(admission.takeNew('a')).toBe(0)
    expect(await admission.admit('k1', 'a')).toBe(0)
    expect(await admission.admit('k1', 'a')).toBe(0)
    expect(await admission.admit('k2', 'a')).toBe(0)
    // Three tokens spent (takeNew, k1, k2): a new key waits, a user with data does not, another address does not.
    expect(await admission.admit('k3', 'a')).toBeGreaterThan(0)
    expect(await admission.admit('has-data', 'a')).toBe(0)
    expect(await admission.admit('k3', 'b')).toBe(0)
    expect(admission.size).toBe(2)
    // k1 was forgotten (the oldest), so it is new again.
    expect(await admission.admit('k1', 'a')).toBeGreaterThan(0)
  })
})

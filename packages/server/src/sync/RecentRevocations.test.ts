import { describe, expect, it } from 'vitest'
import { RecentRevocations } from './RecentRevocations.js'

describe('RecentRevocations', () => {
  it('tells a revocation heard at or after a time, per user and device', () => {
    const r = new RecentRevocations()
    r.remember('u', 'd1', 1000)
    expect(r.since('u', 'd1', 1000)).toBe(true)
    expect(r.since('u', 'd1', 999)).toBe(true)
    expect(r.since('u', 'd1', 1001)).toBe(false)
    expect(r.since('u', 'd2', 0)).toBe(false)
    expect(r.since('v', 'd1', 0)).toBe(false)
  })

  it('forgets revocations older than five minutes, and keeps at most 10,000', () => {
    const r = new RecentRevocations()
    r.remember('u', 'old', 0)
    r.remember('u', 'new', 5 * 60_000 + 1)
    expect(r.since('u', 'old', 0)).toBe(false)
    expect(r.since('u', 'new', 0)).toBe(true)
    for (let i = 0; i <= 10_000; i++) r.remember('u', `d${i}`, 10 * 60_000)
    expect(r.since('u', 'd0', 0)).toBe(false)
    expect(r.since('u', 'd10000', 0)).toBe(true)
  })
})

import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff.js'

describe('backoffDelay', () => {
  it('stays between 0 and min * 2^attempt, capped at max', () => {
    const options = { minDelayMs: 100, maxDelayMs: 1000 }
    expect(backoffDelay(0, options, () => 0)).toBe(0)
    expect(backoffDelay(0, options, () => 1 - 1e-9)).toBe(99)
    expect(backoffDelay(2, options, () => 1 - 1e-9)).toBe(399)
    expect(backoffDelay(10, options, () => 1 - 1e-9)).toBe(999)
    expect(backoffDelay(5000, options, () => 0.5)).toBe(500)
  })

  it('spreads delays over the whole window (full jitter)', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(3, { minDelayMs: 250, maxDelayMs: 30_000 }))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThan(2000)
    expect(delays.filter((d) => d < 1000).length).toBeGreaterThan(700)
    expect(delays.filter((d) => d >= 1000).length).toBeGreaterThan(700)
  })

  it('defaults to 250 ms and 30 s', () => {
    expect(backoffDelay(0, {}, () => 1 - 1e-9)).toBe(249)
    expect(backoffDelay(20, {}, () => 1 - 1e-9)).toBe(29_999)
  })
})

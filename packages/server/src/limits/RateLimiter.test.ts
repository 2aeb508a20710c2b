import { describe, expect, it } from 'vitest'
import { RateLimiter, TokenBucket } from './RateLimiter.js'

describe('TokenBucket', () => {
  it('spends a burst, then tells how long to wait, and refills at the sustained rate', () => {
    const bucket = new TokenBucket({ perSecond: 2, burst: 3 }, 0)
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0])
    expect(bucket.take(0)).toBe(1)
    expect(bucket.take(499)).toBe(1)
    expect(bucket.take(500)).toBe(0)
    expect(bucket.take(500)).toBe(1)
    expect(bucket.isFull(10_000)).toBe(true)
  })

  it('rounds a long wait up to whole seconds', () => {
    const bucket = new TokenBucket({ perSecond: 0.1, burst: 1 }, 0)
    expect(bucket.take(0)).toBe(0)
    expect(bucket.take(0)).toBe(10)
  })
})

describe('RateLimiter', () => {
  it('keeps a bucket per key', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 })
    expect(limiter.take('a', 0)).toBe(0)
    expect(limiter.take('a', 0)).toBe(1)
    expect(limiter.take('b', 0)).toBe(0)
  })

  it('forgets refilled buckets and bounds how many it keeps', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 })
    for (let i = 0; i < 25_000; i++) limiter.take(`busy-${i}`, 0)
    expect(limiter.size).toBeLessThanOrEqual(20_000)
    for (let i = 0; i < 10; i++) limiter.take(`later-${i}`, 60_000)
    expect(limiter.size).toBeLessThan(10_100)
  })
})

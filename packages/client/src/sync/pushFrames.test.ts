import { MAX_MUTATIONS_PER_PUSH, parseClientMessage } from '@cubby/protocol'
import { describe, expect, it } from 'vitest'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import { pushFrames } from './pushFrames.js'

const entry = (clientId: string, mid: number, value = '1'): OutboxEntry => ({ seq: mid, clientId, mutation: { op: 'store', mid, key: `k${mid}`, value } })

describe('pushFrames', () => {
  it('writes valid push frames, one run per client id, in order', () => {
    const frames = pushFrames([entry('old', 1), entry('old', 2), entry('new', 1), entry('new', 2)], 1 << 20).map((f) => parseClientMessage(f))
    expect(frames).toEqual([
      { type: 'push', clientId: 'old', mutations: [entry('old', 1).mutation, entry('old', 2).mutation] },
      { type: 'push', clientId: 'new', mutations: [entry('new', 1).mutation, entry('new', 2).mutation] },
    ])
  })

  it('splits at the largest number of mutations per push', () => {
    const entries = Array.from({ length: MAX_MUTATIONS_PER_PUSH * 2 + 1 }, (_, i) => entry('c', i + 1))
    const frames = pushFrames(entries, 1 << 30).map((f) => parseClientMessage(f) as { mutations: unknown[] })
    expect(frames.map((f) => f.mutations.length)).toEqual([MAX_MUTATIONS_PER_PUSH, MAX_MUTATIONS_PER_PUSH, 1])
  })

  it('keeps frames under the byte budget, sending an oversized mutation alone', () => {
    const big = JSON.stringify('\u00e9"'.repeat(2000))
    const frames = pushFrames([entry('c', 1), entry('c', 2, big), entry('c', 3), entry('c', 4)], 1000)
    expect(frames).toHaveLength(3)
    expect(new TextEncoder().encode(frames[2]).length).toBeLessThan(1000)
    expect((parseClientMessage(frames[1]!) as { mutations: unknown[] }).mutations).toHaveLength(1)
  })

  it('fills each frame up to the byte budget, counting multi-byte characters exactly near it', () => {
    const values = ['"ascii"', JSON.stringify('\u00e9\u20ac'.repeat(30)), JSON.stringify('\u{1f600}'.repeat(20)), '"x"']
    const entries = Array.from({ length: 400 }, (_, i) => entry('c', i + 1, values[i % values.length]))
    // The budget is for the mutations: each one's JSON plus a separator.
    const cost = (i: number): number => new TextEncoder().encode(JSON.stringify(entries[i]!.mutation)).length + 1
    let next = 0
    for (const frame of pushFrames(entries, 2000)) {
      const count = (parseClientMessage(frame) as { mutations: unknown[] }).mutations.length
      let used = 0
      for (let i = next; i < next + count; i++) used += cost(i)
      next += count
      expect(used).toBeLessThanOrEqual(2000)
      if (next < entries.length) expect(used + cost(next)).toBeGreaterThan(2000)
    }
    expect(next).toBe(entries.length)
  })

  it('returns no frame for no entries', () => {
    expect(pushFrames([], 1000)).toEqual([])
  })
})

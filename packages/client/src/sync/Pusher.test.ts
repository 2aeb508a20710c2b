import { parseClientMessage } from '@cubby/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { PendingWrite } from '../state/PendingWrites.js'
import { Pusher } from './Pusher.js'

/** An outbox in memory whose writes are durable as soon as they are made, and the frames a Pusher sends of it. */
function setup() {
  const writes: PendingWrite[] = []
  /** When each frame left (fake time, ms) and how many writes it carried. */
  const frames: Array<{ at: number; count: number }> = []
  const pusher = new Pusher({ writes: () => writes, maxFrameBytes: 1 << 20, syncCache: false })
  pusher.connected((frame) => {
    frames.push({ at: Date.now(), count: (parseClientMessage(frame) as { mutations: unknown[] }).mutations.length })
    return true
  })
  let mid = 0
  /** A store made durable by the cache: it tells the pusher, as the replica does once its transaction is done. */
  const store = (): void => {
    mid++
    const mutation = { op: 'store' as const, mid, key: `k${mid}`, value: '1' }
    writes.push({ seq: mid, clientId: 'c', mutation, order: mid, entry: undefined, ackedRev: undefined, durable: true, sent: false, foreign: false, everSent: false })
    pusher.durable()
  }
  /** The server answers every frame sent so far. */
  const answerAll = (): void => {
    for (const w of writes) if (w.sent && w.ackedRev === undefined) w.ackedRev = w.mutation.mid
    for (let i = answered; i < frames.length; i++) pusher.answered()
    answered = frames.length
  }
  let answered = 0
  /** `count` stores half a millisecond apart, each answered at once (a fast server). */
  const burst = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      store()
      await vi.advanceTimersByTimeAsync(0.5)
      answerAll()
    }
  }
  return { store, frames, answerAll, burst }
}

describe('Pusher, with an asynchronous cache', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sends a write after a pause at once', () => {
    const { store, frames } = setup()
    store()
    expect(frames).toEqual([{ at: 1_000_000, count: 1 }])
  })

  it('sends a loop of stores in rounds whose interval doubles up to 128 ms', async () => {
    const { frames, burst } = setup()
    // Two seconds of stores.
    await burst(4000)
    const gaps = frames.slice(1).map((f, i) => f.at - frames[i]!.at)
    expect(gaps.slice(0, 6)).toEqual([8, 16, 32, 64, 128, 128])
    expect(new Set(gaps.slice(4))).toEqual(new Set([128]))
    // Every write went, in frames of many: about 16 frames rather than 250 at 8 ms or 4,000 at once.
    await vi.advanceTimersByTimeAsync(200)
    expect(frames.reduce((n, f) => n + f.count, 0)).toBe(4000)
    expect(frames.length).toBeLessThan(25)
  })

  it('starts over at 8 ms after a pause of twice the interval', async () => {
    const { store, frames, answerAll, burst } = setup()
    await burst(400)
    // 2 x 128 ms after the last round.
    await vi.advanceTimersByTimeAsync(400)
    answerAll()
    const before = frames.length
    store()
    // The first write after the pause leaves at once, and the next round waits 8 ms again.
    expect(frames.length).toBe(before + 1)
    store()
    await vi.advanceTimersByTimeAsync(7)
    expect(frames.length).toBe(before + 1)
    await vi.advanceTimersByTimeAsync(1)
    expect(frames.length).toBe(before + 2)
  })

  it('shrinks the interval when the writes slow down to one per round', async () => {
    const { store, frames, answerAll, burst } = setup()
    await burst(400)
    // Now one store every 100 ms: each held round carries one write, so the interval halves until they leave at once.
    const delays: number[] = []
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(100 - ((Date.now() - 1_000_000) % 100))
      const at = Date.now()
      const count = frames.length
      store()
      await vi.advanceTimersByTimeAsync(0)
      while (frames.length === count) await vi.advanceTimersByTimeAsync(1)
      delays.push(frames.at(-1)!.at - at)
      answerAll()
    }
    expect(delays.at(-1)).toBe(0)
    expect(Math.max(...delays)).toBeLessThanOrEqual(128)
  })
})

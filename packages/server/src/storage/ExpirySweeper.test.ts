import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CubbyLogger } from '../logger.js'
import type { CubbyStorage } from './CubbyStorage.js'
import { ExpirySweeper } from './ExpirySweeper.js'

afterEach(() => {
  vi.useRealTimers()
})

/** A storage whose expiry index fails while `down` is set, as a Redis that is stopped does. */
function storageThatFails() {
  const state = { down: true, sweeps: 0 }
  const fail = (): Promise<never> => Promise.reject(new Error('connect ECONNREFUSED'))
  const storage = {
    sweepExpired: () => (state.sweeps++, state.down ? fail() : Promise.resolve([])),
    nextExpiry: () => (state.down ? fail() : Promise.resolve(undefined)),
  } as unknown as CubbyStorage
  return { storage, state }
}

function recordingLogger() {
  const lines: string[] = []
  const logger: CubbyLogger = { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) }
  return { logger, lines }
}

describe('ExpirySweeper while its storage fails', () => {
  it('backs off and logs the failure once a minute, then says once that it works again', async () => {
    vi.useFakeTimers()
    const { storage, state } = storageThatFails()
    const { logger, lines } = recordingLogger()
    const sweeper = new ExpirySweeper({ storage, publish: () => {}, logger, ready: () => Promise.resolve() })
    sweeper.start()
    await vi.advanceTimersByTimeAsync(59_000)
    // Tries at 0, 1, 3, 7, 15 s, then every 10 s: 9 tries in 59 s (59 at one a second), one line.
    expect(state.sweeps).toBe(9)
    expect(lines).toEqual(['error The expiry sweep failed'])
    // The try at 65 s is the first a minute after the line: a second line (with the count of failures since).
    await vi.advanceTimersByTimeAsync(7_000)
    expect(lines).toEqual(['error The expiry sweep failed', 'error The expiry sweep failed'])
    state.down = false
    await vi.advanceTimersByTimeAsync(12_000)
    expect(lines.slice(2)).toEqual(['info The expiry sweep works again'])
    // Working again: a look a second, and the next failure is logged at once.
    const before = state.sweeps
    await vi.advanceTimersByTimeAsync(5_000)
    expect(state.sweeps - before).toBe(5)
    state.down = true
    await vi.advanceTimersByTimeAsync(1_000)
    expect(lines.at(-1)).toBe('error The expiry sweep failed')
    await sweeper.close()
  })

  it('stops waiting for a sweep that never ends when closed', async () => {
    const storage = { sweepExpired: () => new Promise(() => {}), nextExpiry: () => Promise.resolve(undefined) } as unknown as CubbyStorage
    const sweeper = new ExpirySweeper({ storage, publish: () => {}, logger: recordingLogger().logger, ready: () => Promise.resolve() })
    sweeper.start()
    // The first sweep starts once `ready()` resolved, on a timer of 0 ms.
    await new Promise((resolve) => setTimeout(resolve, 50))
    await expect(sweeper.close()).resolves.toBeUndefined()
  })
})

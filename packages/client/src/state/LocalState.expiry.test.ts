import { describe, expect, it } from 'vitest'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import { LocalState } from './LocalState.js'

let mid = 0
const storeFor = (key: string, value: number, expiresAt?: number): OutboxEntry => ({
  seq: ++mid, clientId: 'me',
  mutation: expiresAt === undefined ? { op: 'store', mid, key, value: String(value) } : { op: 'store', mid, key, value: String(value), expiresAt },
})

describe('LocalState expiry', () => {
  it('hides a value from its moment on, on the clock it is given, and reports the deletion once', () => {
    let now = 1000
    const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1', expiresAt: 1500 }, { key: 'b', rev: 1, value: '2' }], outbox: [], cursor: 1 }, () => now)
    expect(state.list()).toEqual(['a', 'b'])
    expect(state.nextExpiry()).toBe(1500)
    now = 1499
    expect(state.expire()).toEqual([])
    now = 1500
    expect(state.expire()).toEqual([{ key: 'a', deleted: true }])
    expect(state.get('a')).toBeUndefined()
    expect(state.list()).toEqual(['b'])
    expect(state.nextExpiry()).toBeUndefined()
    expect(state.expire()).toEqual([])
  })

  it('takes the expiry of the last pending write, and a store without one clears it', () => {
    let now = 0
    const state = new LocalState({ entries: [], outbox: [], cursor: 0 }, () => now)
    state.addWrites([storeFor('k', 1, 100)])
    expect(state.nextExpiry()).toBe(100)
    state.addWrites([storeFor('k', 2)])
    expect(state.nextExpiry()).toBeUndefined()
    now = 200
    expect(state.expire()).toEqual([])
    expect(state.get('k')?.value).toBe(2)
  })

  it('keeps a value that arrives already expired out of the view, and a server change with expiresAt in the index', () => {
    const now = 1000
    const state = new LocalState({ entries: [], outbox: [], cursor: 0 }, () => now)
    const { changes } = state.applyChanges([{ rev: 1, key: 'old', value: '1', expiresAt: 999 }, { rev: 2, key: 'new', value: '2', expiresAt: 5000 }], 2)
    expect(changes).toEqual([{ key: 'new', value: 2 }])
    expect(state.nextExpiry()).toBe(5000)
    // Its cache record keeps the expiry, for reloads.
    expect(state.snapshotWrite().putEntries).toContainEqual({ key: 'new', rev: 2, value: '2', expiresAt: 5000 })
  })
})

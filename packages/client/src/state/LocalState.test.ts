import { describe, expect, it } from 'vitest'
import type { MutationInput } from '../Replica.js'
import type { CacheSnapshot, OutboxEntry } from '../cache/CubbyCache.js'
import { LocalState } from './LocalState.js'

const empty: CacheSnapshot = { entries: [], outbox: [], cursor: 0 }
let mid = 0
const out = (mutation: MutationInput, clientId = 'me'): OutboxEntry => ({ seq: ++mid, clientId, mutation: { ...mutation, mid } })
const store = (key: string, value: unknown): OutboxEntry => out({ op: 'store', key, value: JSON.stringify(value) })
const view = (state: LocalState): Record<string, unknown> => Object.fromEntries(state.list().map((k) => [k, state.get(k)!.value]))

describe('LocalState', () => {
  it('loads confirmed entries and lays the loaded outbox over them', () => {
    const state = new LocalState({
      entries: [
        { key: 'a', rev: 1, value: '1' },
        { key: 'b', rev: 2, value: '2' },
      ],
      outbox: [store('a', 10), out({ op: 'delete', key: 'b' })],
      cursor: 2,
    })
    expect(view(state)).toEqual({ a: 10 })
    expect(state.pending.unsettledCount).toBe(2)
    expect(state.pending.isUnsettled('a')).toBe(true)
    expect(state.pending.isUnsettled('c')).toBe(false)
  })

  it('reports only keys whose visible value changed', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }], outbox: [], cursor: 1 })
    expect(state.addWrites([store('a', 1)]).changes).toEqual([])
    expect(state.addWrites([store('a', 2), store('b', 3)]).changes).toEqual([
      { key: 'a', value: 2 },
      { key: 'b', value: 3 },
    ])
    expect(state.addWrites([out({ op: 'delete', key: 'zzz' })]).changes).toEqual([])
  })

  it('hides every confirmed key behind a pending clear, and shows stores made after it', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }, { key: 'b', rev: 1, value: '2' }], outbox: [], cursor: 1 })
    state.addWrites([store('c', 3)])
    const { changes } = state.addWrites([out({ op: 'clear' })])
    expect(changes.map((c) => c.key).sort()).toEqual(['a', 'b', 'c'])
    expect(state.addWrites([store('d', 4)]).changes).toEqual([{ key: 'd', value: 4 }])
    // A remote value under a pending clear stays hidden.
    expect(state.applyChanges([{ rev: 2, key: 'a', value: '5' }], 2).changes).toEqual([])
    expect(view(state)).toEqual({ d: 4 })
    expect(state.pending.isUnsettled('anything')).toBe(true)
  })

  it('keeps a pending value over remote changes, without flicker, until the cursor reaches its ack', () => {
    const state = new LocalState({ entries: [{ key: 'theme', rev: 1, value: '"dark"' }], outbox: [], cursor: 1 })
    const [write] = state.addWrites([store('theme', 'light')]).writes
    // The catch-up brings an older remote value: the pending write still wins.
    expect(state.applyChanges([{ rev: 2, key: 'theme', value: '"blue"' }], 2).changes).toEqual([])
    // Acked at rev 5, but the cursor is at 2: the write stays in the overlay.
    const ack = state.acknowledge('me', [{ mid: write!.mutation.mid, rev: 5 }])
    expect(ack).toMatchObject({ changes: [], dropped: [], rejected: [] })
    expect(ack.settled).toEqual([write])
    expect(state.pending.unsettledCount).toBe(0)
    expect(state.applyChanges([{ rev: 3, key: 'theme', value: '"green"' }], 3).changes).toEqual([])
    expect(state.get('theme')!.value).toBe('light')
    // Its own change arrives: same encoding, so no event and the same object.
    const before = state.get('theme')
    const reached = state.applyChanges([{ rev: 5, key: 'theme', value: '"light"' }], 5)
    expect(reached.changes).toEqual([])
    expect(reached.dropped).toEqual([write])
    expect(state.get('theme')).toBe(before)
  })

  it('drops a write acknowledged at or below the cursor at once, revealing a later remote value', () => {
    const state = new LocalState(empty)
    const [write] = state.addWrites([store('k', 1)]).writes
    state.applyChanges([{ rev: 1, key: 'k', value: '1' }, { rev: 2, key: 'k', value: '2' }], 2)
    expect(state.get('k')!.value).toBe(1)
    const ack = state.acknowledge('me', [{ mid: write!.mutation.mid, rev: 1 }])
    expect(ack.dropped).toEqual([write])
    expect(ack.changes).toEqual([{ key: 'k', value: 2 }])
  })

  it('rolls a rejected write back to the confirmed value', () => {
    const state = new LocalState({ entries: [{ key: 'k', rev: 1, value: '1' }], outbox: [], cursor: 1 })
    const [bad] = state.addWrites([store('k', 'too big')]).writes
    const ack = state.acknowledge('me', [{ mid: bad!.mutation.mid, error: { code: 'VALUE_TOO_LARGE', message: 'no' } }])
    expect(ack.rejected).toEqual([{ write: bad, error: { code: 'VALUE_TOO_LARGE', message: 'no' } }])
    expect(ack.changes).toEqual([{ key: 'k', value: 1 }])
    expect(state.pending.unsettledCount).toBe(0)
  })

  it('rolls back to the previous pending write, not the confirmed value', () => {
    const state = new LocalState(empty)
    state.addWrites([store('k', 1)])
    const [second] = state.addWrites([store('k', 2)]).writes
    expect(state.removeWrites([second!])).toEqual([{ key: 'k', value: 1 }])
    expect(state.pending.isUnsettled('k')).toBe(true)
  })

  it('ignores acks for unknown or already settled writes', () => {
    const state = new LocalState(empty)
    const [write] = state.addWrites([store('k', 1)]).writes
    expect(state.acknowledge('other', [{ mid: write!.mutation.mid, rev: 1 }]).settled).toEqual([])
    expect(state.acknowledge('me', [{ mid: 999, rev: 1 }]).settled).toEqual([])
    state.acknowledge('me', [{ mid: write!.mutation.mid, rev: 3 }])
    expect(state.acknowledge('me', [{ mid: write!.mutation.mid, rev: 3 }]).settled).toEqual([])
  })

  it('writes a key stored and then deleted in one frame as deleted (a cache applies deletes before puts)', () => {
    const state = new LocalState(empty)
    const { write } = state.applyChanges([{ rev: 1, key: 'k', value: '1' }, { rev: 2, key: 'k', deleted: true }, { rev: 3, key: 'j', deleted: true }, { rev: 4, key: 'j', value: '4' }], 4)
    expect(write).toEqual({ deleteEntries: ['k'], putEntries: [{ key: 'j', rev: 4, value: '4' }], cursor: 4 })
  })

  describe('acknowledge with fold (a session without echo)', () => {
    const ids = (writes: ReadonlyArray<{ mutation: { mid: number } }>, revs: number[]) => writes.map((w, i) => ({ mid: w.mutation.mid, rev: revs[i]! }))

    it('confirms acknowledged writes at their revs, moves the cursor, drops them, and shows no change', () => {
      const state = new LocalState({ entries: [{ key: 'old', rev: 1, value: '1' }, { key: 'x', rev: 1, value: '0' }], outbox: [], cursor: 1 })
      const { writes } = state.addWrites([store('a', 'A'), store('a', 'A2'), out({ op: 'delete', key: 'old' }), store('b', 'B'), out({ op: 'delete', key: 'never' })])
      const shown = state.get('a')
      const ack = state.acknowledgeOwn('me', ids(writes, [2, 3, 4, 5, 6]))
      expect(ack.changes).toEqual([])
      expect(ack.dropped).toEqual(writes)
      expect(state.get('a')).toBe(shown)
      expect(state.cursor).toBe(6)
      expect(view(state)).toEqual({ a: 'A2', b: 'B', x: 0 })
      expect(ack.write).toEqual({ deleteEntries: ['old'], putEntries: [{ key: 'a', rev: 3, value: '"A2"' }, { key: 'b', rev: 5, value: '"B"' }], cursor: 6 })
      expect(ack.folded).toEqual([
        { rev: 2, key: 'a', value: '"A"' },
        { rev: 3, key: 'a', value: '"A2"' },
        { rev: 4, key: 'old', deleted: true },
        { rev: 5, key: 'b', value: '"B"' },
      ])
      // What the cache holds then is what memory holds.
      const reloaded = new LocalState({ entries: [{ key: 'x', rev: 1, value: '0' }, ...ack.write.putEntries!], outbox: [], cursor: ack.write.cursor! })
      expect(view(reloaded)).toEqual(view(state))
    })

    it('lists the folded changes only when another tab gets them (relay), confirming the same either way', () => {
      const make = () => new LocalState({ entries: [{ key: 'old', rev: 1, value: '1' }], outbox: [], cursor: 1 })
      const [relayed, alone] = [make(), make()]
      const writes = (state: LocalState) => state.addWrites([store('a', 'A'), out({ op: 'delete', key: 'old' })]).writes
      const withRelay = relayed.acknowledgeOwn('me', ids(writes(relayed), [2, 3]), true)
      const without = alone.acknowledgeOwn('me', ids(writes(alone), [2, 3]), false)
      expect(withRelay.folded).toHaveLength(2)
      expect(without.folded).toEqual([])
      expect(without.write).toEqual(withRelay.write)
      expect(alone.cursor).toBe(3)
      expect(view(alone)).toEqual(view(relayed))
    })

    it('holds one object per key for the view and the confirmed record, after an ack and after a remote change', () => {
      const state = new LocalState(empty)
      const [write] = state.addWrites([store('k', { n: 1 })]).writes
      const shown = state.get('k')
      state.acknowledgeOwn('me', [{ mid: write!.mutation.mid, rev: 1 }], false)
      expect(state.confirmed('k')).toBe(shown)
      expect(state.version('k')).toBe(1)
      state.applyChanges([{ rev: 2, key: 'j', value: '{"n":2}' }], 2)
      expect(state.confirmed('j')).toBe(state.get('j'))
      expect(state.get('j')!.value).toEqual({ n: 2 })
    })

    it('keeps the pending state of a key right as it goes from one write to several and back', () => {
      const state = new LocalState(empty)
      const [first] = state.addWrites([store('k', 1)]).writes
      expect(state.pending.last('k')).toBe(first)
      const [second] = state.addWrites([store('k', 2)]).writes
      expect(state.pending.last('k')).toBe(second)
      expect(state.removeWrites([second!])).toEqual([{ key: 'k', value: 1 }])
      expect(state.pending.last('k')).toBe(first)
      expect(state.pending.isUnsettled('k')).toBe(true)
      state.acknowledgeOwn('me', [{ mid: first!.mutation.mid, rev: 1 }], false)
      expect(state.pending.last('k')).toBeUndefined()
      expect(state.pending.isUnsettled('k')).toBe(false)
      expect(view(state)).toEqual({ k: 1 })
      const [third] = state.addWrites([store('k', 3)]).writes
      expect(state.pending.last('k')).toBe(third)
      expect(view(state)).toEqual({ k: 3 })
    })

    it('folds a clear as the deletes it makes, not as a clear of the cache', () => {
      const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }, { key: 'k', rev: 3, value: '3' }], outbox: [], cursor: 3 })
      const [clear, after] = state.addWrites([out({ op: 'clear' }), store('mine', 'after the clear')]).writes
      const cleared = state.acknowledgeOwn('me', ids([clear!, after!], [4, 5]))
      expect(view(state)).toEqual({ mine: 'after the clear' })
      expect(cleared.write).toEqual({ deleteEntries: ['a', 'k'], putEntries: [{ key: 'mine', rev: 5, value: '"after the clear"' }], cursor: 5 })
      expect(cleared.folded).toEqual([
        { rev: 4, key: 'a', deleted: true },
        { rev: 4, key: 'k', deleted: true },
        { rev: 5, key: 'mine', value: '"after the clear"' },
      ])
      // Another tab applies the folded changes as a frame and ends in the same state.
      const other = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }, { key: 'k', rev: 3, value: '3' }], outbox: [], cursor: 3 })
      other.applyChanges(cleared.folded, 5)
      expect(view(other)).toEqual(view(state))
    })

    it('folds nothing at or below the cursor (its change came already) and nothing that was rejected', () => {
      const state = new LocalState(empty)
      const [a, b] = state.addWrites([store('a', 1), store('b', 2)]).writes
      state.applyChanges([{ rev: 1, key: 'a', value: '1' }], 1)
      const ack = state.acknowledgeOwn('me', [{ mid: a!.mutation.mid, rev: 1 }, { mid: b!.mutation.mid, error: { code: 'VALUE_TOO_LARGE', message: 'no' } }])
      expect(ack.folded).toEqual([])
      expect(ack.write).toEqual({ cursor: 1 })
      expect(view(state)).toEqual({ a: 1 })
    })
  })

  it('empties confirmed on a remote clear and returns one cache write for a frame', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }, { key: 'b', rev: 2, value: '2' }], outbox: [], cursor: 2 })
    state.addWrites([store('p', 'pending')])
    const result = state.applyChanges(
      [
        { rev: 3, key: 'x', value: '3' },
        { rev: 4, clear: true },
        { rev: 5, key: 'y', value: '5' },
        { rev: 6, key: 'z', deleted: true },
      ],
      6,
    )
    expect(view(state)).toEqual({ p: 'pending', y: 5 })
    expect(result.write).toEqual({ clearEntries: true, putEntries: [{ key: 'y', rev: 5, value: '5' }], deleteEntries: ['z'], cursor: 6 })
    expect(result.changes.map((c) => c.key).sort()).toEqual(['a', 'b', 'y'])
    expect(state.cursor).toBe(6)
  })

  it('skips changes at or below the cursor', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 5, value: '5' }], outbox: [], cursor: 5 })
    expect(state.applyChanges([{ rev: 4, key: 'a', value: '4' }, { rev: 5, clear: true }], 5).changes).toEqual([])
    expect(state.get('a')!.value).toBe(5)
  })

  it('keeps an acknowledged clear in the overlay until the cursor reaches it', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }], outbox: [], cursor: 1 })
    const [clear] = state.addWrites([out({ op: 'clear' })]).writes
    state.acknowledge('me', [{ mid: clear!.mutation.mid, rev: 3 }])
    expect(state.applyChanges([{ rev: 2, key: 'b', value: '2' }], 2).changes).toEqual([])
    expect(state.list()).toEqual([])
    const reached = state.applyChanges([{ rev: 3, clear: true }], 3)
    expect(reached.dropped).toEqual([clear])
    expect(reached.changes).toEqual([])
  })

  it('moves the cursor on synced and drops what it reached', () => {
    const state = new LocalState(empty)
    const [write] = state.addWrites([store('k', 1)]).writes
    state.acknowledge('me', [{ mid: write!.mutation.mid, rev: 7 }])
    expect(state.advance(6).dropped).toEqual([])
    expect(state.advance(7).dropped).toEqual([write])
    expect(state.cursor).toBe(7)
    expect(state.advance(3).dropped).toEqual([])
    expect(state.cursor).toBe(7)
  })
})

describe('LocalState when the server is behind its cursor', () => {
  it('starts over from revision 0, dropping confirmed data and acknowledged writes but keeping unacknowledged ones', () => {
    const state = new LocalState({ entries: [{ key: 'old', rev: 7, value: '"gone"' }], outbox: [], cursor: 9 })
    const [acked] = state.addWrites([store('acked', 1)]).writes
    state.acknowledge('me', [{ mid: acked!.mutation.mid, rev: 12 }])
    state.addWrites([store('queued', 2)])

    const result = state.applyChanges([{ rev: 0, clear: true }], 0)
    expect(state.cursor).toBe(0)
    expect(result.write).toMatchObject({ clearEntries: true, cursor: 0 })
    expect(result.dropped).toEqual([acked])
    expect(result.changes.map((c) => c.key).sort()).toEqual(['acked', 'old'])
    expect(view(state)).toEqual({ queued: 2 })

    // Everything from the start follows, as for a cold client.
    state.applyChanges([{ rev: 1, key: 'fresh', value: '3' }], 1)
    expect(view(state)).toEqual({ fresh: 3, queued: 2 })
  })
})

describe('LocalState with a value that does not decode', () => {
  it('skips the value, reports it and still moves the cursor', () => {
    const state = new LocalState(empty)
    const result = state.applyChanges([{ rev: 1, key: 'bad', value: '~not a table' }, { rev: 2, key: 'ok', value: '2' }], 2)
    expect(result.errors).toHaveLength(1)
    expect(result.changes).toEqual([{ key: 'ok', value: 2 }])
    expect(state.cursor).toBe(2)
  })
})

describe('LocalState shared between tabs', () => {
  it('lays writes of other tabs over the view once, whatever order they are heard in', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }], outbox: [], cursor: 1 })
    const theirs = out({ op: 'store', key: 'a', value: '2' }, 'other-tab')
    expect(state.addForeign([theirs]).changes).toEqual([{ key: 'a', value: 2 }])
    expect(state.addForeign([theirs]).writes).toEqual([])
    expect(state.pending.find('other-tab', theirs.mutation.mid)?.foreign).toBe(true)
  })

  it('does not start over for a mirrored frame behind its cursor, only for the server\'s explicit start-over', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 9, value: '9' }], outbox: [], cursor: 10 })
    // A new leader catches up from an older cursor: its first batch ends below this tab's cursor.
    state.applyRelayed([{ rev: 8, key: 'b', value: '8' }], 8)
    expect(state.cursor).toBe(10)
    expect(view(state)).toEqual({ a: 9 })
    const reset = state.applyRelayed([{ rev: 0, clear: true }], 0)
    expect(reset.write).toMatchObject({ reset: true, cursor: 0 })
    expect(view(state)).toEqual({})
  })

  it('catches up with a cache that is ahead: its records, new outbox entries, and writes others saw through', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }], outbox: [], cursor: 1 })
    const [mine] = state.addWrites([store('m', 1)]).writes
    mine!.durable = true
    const theirs = out({ op: 'store', key: 't', value: '5' }, 'other-tab')
    const result = state.resync({ entries: [{ key: 'm', rev: 2, value: '1' }], outbox: [theirs], cursor: 2 })
    expect(result.settled).toEqual([mine])
    expect(result.added.map((w) => w.clientId)).toEqual(['other-tab'])
    expect(view(state)).toEqual({ m: 1, t: 5 })
    expect(state.cursor).toBe(2)
    expect(state.pending.unsettledCount).toBe(1)
  })

  it('forgets everything', () => {
    const state = new LocalState({ entries: [{ key: 'a', rev: 1, value: '1' }], outbox: [store('b', 2)], cursor: 1 })
    const { changes, writes } = state.forget()
    expect(changes).toEqual([{ key: 'a', deleted: true }, { key: 'b', deleted: true }])
    expect(writes).toHaveLength(1)
    expect(state.pending.unsettledCount).toBe(0)
  })
})

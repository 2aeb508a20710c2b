import { cubby, cubbyClient, cubbyKeys, cubbyStatus } from '@cubby/svelte'
import { get } from 'svelte/store'
import { describe, expect, it, vi } from 'vitest'
import { memoryCubby, offlineToken } from './testing.fixture.js'

/** Every value a store gives its subscriber, until disposed. */
function record<T>(store: { subscribe(run: (value: T) => void): () => void }): { values: T[] } & Disposable {
  const values: T[] = []
  const unsubscribe = store.subscribe((value) => void values.push(value))
  return { values, [Symbol.dispose]: unsubscribe }
}

describe('cubby()', () => {
  it('holds initial while loading, then the stored value', async () => {
    let signIn!: (token: string) => void
    await using client = memoryCubby({ auth: () => new Promise<string>((resolve) => (signIn = resolve)) })
    const theme = cubby('theme', 'light', { cubby: client })
    using values = record(theme)
    using metas = record(theme.meta)
    expect(get(theme)).toBe('light')
    expect(get(theme.meta)).toEqual({ status: 'loading', loaded: false, pending: false, synced: false, error: undefined, version: 0 })
    // The client asks for its token once its replica's code has loaded (an import() of its own).
    await vi.waitFor(() => expect(signIn).toBeTypeOf('function'))
    signIn(offlineToken('alice'))
    await client.store('theme', 'dark')
    expect(values.values).toEqual(['light', 'dark'])
    expect(metas.values.map((m) => m.status)).toEqual(['loading', 'synced', 'pending'])
  })

  it('stores through set and update, and stays quiet for other keys', async () => {
    await using client = memoryCubby()
    const count = cubby('count', 0, { cubby: client })
    using values = record(count)
    await vi.waitFor(() => expect(get(count.meta).loaded).toBe(true))
    count.set(1)
    count.update((n) => n + 1)
    await client.store('note', 'unrelated')
    await vi.waitFor(() => expect(get(count)).toBe(2))
    expect(await client.get('count')).toBe(2)
    expect(values.values).toEqual([0, 1, 2])
  })

  it('shows a failed write in meta, never as a throw, and clears it on the next write', async () => {
    await using client = memoryCubby({ limits: { maxValueBytes: 16 } })
    const note = cubby('note', '', { cubby: client })
    using metas = record(note.meta)
    note.set('x'.repeat(100))
    await vi.waitFor(() => expect(get(note.meta)).toMatchObject({ status: 'error', error: { code: 'VALUE_TOO_LARGE' } }))
    expect(get(note)).toBe('')
    note.set('short')
    await vi.waitFor(() => expect(get(note.meta)).toMatchObject({ status: 'pending', error: undefined }))
    expect(metas.values.at(-1)!.status).toBe('pending')
  })

  it('holds initial without a client (server rendering)', () => {
    const theme = cubby('theme', 'light', { cubby: null })
    expect(get(theme)).toBe('light')
    expect(get(theme.meta).status).toBe('loading')
    expect(get(cubbyKeys({ cubby: null }))).toEqual([])
    expect(get(cubbyStatus({ cubby: null })).status).toBe('connecting')
    expect(cubbyClient({ cubby: null })).toBeNull()
  })

  it('needs { cubby } outside component initialisation', () => {
    expect(() => cubby('theme', 'light')).toThrow(TypeError)
  })
})

describe('cubbyKeys() and cubbyStatus()', () => {
  it('lists keys under a prefix as they come and go, and reports the status', async () => {
    await using client = memoryCubby()
    await client.store('todo/b', { title: 'B' })
    const keys = cubbyKeys({ prefix: 'todo/', cubby: client })
    const state = cubbyStatus({ cubby: client })
    using listed = record(keys)
    using states = record(state)
    await vi.waitFor(() => expect(get(keys)).toEqual(['todo/b']))
    await client.store('todo/a', { title: 'A' })
    await client.store('todo/a', { title: 'A, renamed' })
    await client.delete('todo/b')
    expect(listed.values.map((k) => k.join(','))).toEqual(['', 'todo/b', 'todo/a,todo/b', 'todo/a'])
    expect(states.values.at(-1)).toMatchObject({ status: 'offline', loaded: true, userId: 'alice', pendingCount: 4 })
  })
})

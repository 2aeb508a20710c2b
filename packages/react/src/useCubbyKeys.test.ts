// @vitest-environment happy-dom
import { CubbyProvider, useCubbyKeys } from '@cubby/react'
import { createElement as h } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { memoryCubby, offlineToken, render } from './testing.fixture.js'

function Todos({ renders }: { renders: string[] }) {
  const keys = useCubbyKeys({ prefix: 'todo/' })
  renders.push(keys.join(','))
  return h('p', { 'data-testid': 'keys' }, keys.join(','))
}

describe('useCubbyKeys', () => {
  it('lists the keys under a prefix in order, as they come and go', async () => {
    await using cubby = memoryCubby()
    await cubby.storeMany([
      ['todo/b', { title: 'B' }],
      ['theme', 'dark'],
    ])
    const renders: string[] = []
    await using view = render(h(CubbyProvider, { cubby }, h(Todos, { renders })))
    await vi.waitFor(() => expect(view.text('keys')).toBe('todo/b'))
    await cubby.store('todo/a', { title: 'A' })
    await cubby.store('todo/c', { title: 'C' })
    await vi.waitFor(() => expect(view.text('keys')).toBe('todo/a,todo/b,todo/c'))
    await cubby.delete('todo/b')
    await vi.waitFor(() => expect(view.text('keys')).toBe('todo/a,todo/c'))
  })

  it('does not re-render when values change or keys elsewhere come and go', async () => {
    await using cubby = memoryCubby()
    await cubby.store('todo/a', { title: 'A' })
    const renders: string[] = []
    await using view = render(h(CubbyProvider, { cubby }, h(Todos, { renders })))
    await vi.waitFor(() => expect(view.text('keys')).toBe('todo/a'))
    renders.length = 0
    await cubby.store('todo/a', { title: 'A, renamed' })
    await cubby.store('theme', 'light')
    await cubby.store('todo/b', { title: 'B' })
    await vi.waitFor(() => expect(view.text('keys')).toBe('todo/a,todo/b'))
    expect(renders).toEqual(['todo/a,todo/b'])
  })

  it('loses no write made while the first listing is on its way', async () => {
    let signIn!: (token: string) => void
    await using cubby = memoryCubby({ auth: () => new Promise<string>((resolve) => (signIn = resolve)) })
    await using view = render(h(CubbyProvider, { cubby }, h(Todos, { renders: [] })))
    await vi.waitFor(() => expect(view.text('keys')).toBe(''))
    // These writes wait for the load and land right as it completes, around the binding's own listing.
    const writes = [cubby.store('todo/1', { title: '1' }), cubby.store('todo/2', { title: '2' }), cubby.delete('todo/1')]
    signIn(offlineToken('alice'))
    await Promise.all(writes)
    await vi.waitFor(() => expect(view.text('keys')).toBe('todo/2'))
  })

  it('lists every key without a prefix', async () => {
    await using cubby = memoryCubby()
    await cubby.storeMany([
      ['theme', 'dark'],
      ['count', 1],
    ])
    function All() {
      return h('p', { 'data-testid': 'keys' }, useCubbyKeys().join(','))
    }
    await using view = render(h(CubbyProvider, { cubby }, h(All)))
    await vi.waitFor(() => expect(view.text('keys')).toBe('count,theme'))
  })
})

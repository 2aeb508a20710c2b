// @vitest-environment happy-dom
import { CubbyProvider, type CubbyMeta, useCubby } from '@cubby/react'
import { StrictMode, createElement as h, useEffect } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { memoryCubby, offlineToken, render } from './testing.fixture.js'

type Controls = { setTheme?: (value: 'dark' | 'light') => Promise<void>; meta?: CubbyMeta }

function Theme({ controls, renders }: { controls: Controls; renders?: string[] }) {
  const [theme, setTheme, meta] = useCubby('theme', 'light')
  controls.setTheme = setTheme
  controls.meta = meta
  renders?.push(`theme:${theme}`)
  return h('p', { 'data-testid': 'theme' }, `${theme} ${meta.status}`)
}

function Count({ renders }: { renders: string[] }) {
  const [count, setCount] = useCubby('count', 0)
  renders.push(`count:${count}`)
  return h('button', { 'data-testid': 'count', onClick: () => void setCount((n) => n + 1) }, String(count))
}

describe('useCubby', () => {
  it('renders initial while loading, then the stored value', async () => {
    let signIn!: (token: string) => void
    await using cubby = memoryCubby({ auth: () => new Promise<string>((resolve) => (signIn = resolve)) })
    const controls: Controls = {}
    await using view = render(h(CubbyProvider, { cubby }, h(Theme, { controls })))
    await vi.waitFor(() => expect(view.text('theme')).toBe('light loading'))
    expect(controls.meta).toEqual({ status: 'loading', loaded: false, pending: false, synced: false, error: undefined, version: 0 })
    // The client asks for its token once its replica's code has loaded (an import() of its own).
    await vi.waitFor(() => expect(signIn).toBeTypeOf('function'))
    signIn(offlineToken('alice'))
    await cubby.store('theme', 'dark')
    await vi.waitFor(() => expect(view.text('theme')).toBe('dark pending'))
  })

  it('writes through setValue, and a functional update sees the current value', async () => {
    await using cubby = memoryCubby()
    const controls: Controls = {}
    const renders: string[] = []
    await using view = render(h(CubbyProvider, { cubby }, h(Theme, { controls }), h(Count, { renders })))
    await vi.waitFor(() => expect(view.text('theme')).toBe('light synced'))
    await controls.setTheme!('dark')
    expect(await cubby.get('theme')).toBe('dark')
    await vi.waitFor(() => expect(view.text('theme')).toBe('dark pending'))
    expect(controls.meta).toMatchObject({ loaded: true, pending: true, synced: false, error: undefined })
    const button = view.container.querySelector<HTMLButtonElement>('[data-testid="count"]')!
    button.click()
    await vi.waitFor(() => expect(view.text('count')).toBe('1'))
    button.click()
    await vi.waitFor(() => expect(view.text('count')).toBe('2'))
    expect(await cubby.get('count')).toBe(2)
  })

  it('does not re-render components of other keys', async () => {
    await using cubby = memoryCubby()
    const renders: string[] = []
    await using view = render(h(CubbyProvider, { cubby }, h(Theme, { controls: {}, renders }), h(Count, { renders })))
    await vi.waitFor(() => expect(view.text('theme')).toBe('light synced'))
    renders.length = 0
    await cubby.store('theme', 'dark')
    await cubby.store('note', 'unrelated')
    await vi.waitFor(() => expect(view.text('theme')).toBe('dark pending'))
    expect(renders).toEqual(['theme:dark'])
  })

  it('shows a failed write as meta.error, never as a thrown render, and clears it on the next write', async () => {
    await using cubby = memoryCubby({ limits: { maxValueBytes: 16 } })
    const controls: Controls = {}
    await using view = render(h(CubbyProvider, { cubby }, h(Theme, { controls })))
    await vi.waitFor(() => expect(view.text('theme')).toBe('light synced'))
    // A value the client refuses: too large for the limit.
    await expect(controls.setTheme!('x'.repeat(100) as 'dark')).resolves.toBeUndefined()
    await vi.waitFor(() => expect(view.text('theme')).toBe('light error'))
    expect(controls.meta!.error).toMatchObject({ name: 'CubbyError', code: 'VALUE_TOO_LARGE' })
    await controls.setTheme!('dark')
    await vi.waitFor(() => expect(view.text('theme')).toBe('dark pending'))
    expect(controls.meta!.error).toBeUndefined()
  })

  it('shows a failed load as the error state of every key', async () => {
    await using cubby = memoryCubby({ auth: 'not-a-jwt' })
    const controls: Controls = {}
    await using view = render(h(CubbyProvider, { cubby }, h(Theme, { controls })))
    await vi.waitFor(() => expect(view.text('theme')).toBe('light error'))
    expect(controls.meta).toMatchObject({ loaded: false, error: { code: 'INVALID_USER_ID' } })
  })

  it('works under StrictMode and leaves no listener behind', async () => {
    await using cubby = memoryCubby()
    const added = vi.spyOn(cubby, 'addEventListener')
    function Writer() {
      const [, setNote] = useCubby('note', '')
      useEffect(() => void setNote('from an effect'), [setNote])
      return null
    }
    function Note() {
      return h('p', { 'data-testid': 'note' }, useCubby('note', 'none')[0])
    }
    const view = render(h(StrictMode, null, h(CubbyProvider, { cubby }, h(Writer), h(Note))))
    await vi.waitFor(() => expect(view.text('note')).toBe('from an effect'))
    await view[Symbol.asyncDispose]()
    const signals = added.mock.calls.map(([, , options]) => (options as AddEventListenerOptions).signal!)
    expect(signals.length).toBeGreaterThan(0)
    expect(signals.every((signal) => signal.aborted)).toBe(true)
  })
})

// @vitest-environment happy-dom
import { type CubbyRef, useCubby, useCubbyKeys, useCubbyStatus } from '@cubby/vue'
import { defineComponent, h, nextTick, ref } from 'vue'
import { describe, expect, it, vi } from 'vitest'
import { memoryCubby, mount, offlineToken } from './testing.fixture.js'

const refs: { theme?: CubbyRef<'dark' | 'light'> } = {}

const Theme = defineComponent({
  props: { id: { type: String, default: 'theme' } },
  setup(props) {
    const theme = (refs.theme = useCubby('theme', 'light'))
    return () => h('p', { 'data-testid': props.id }, `${theme.value} ${theme.meta.value.status}`)
  },
})

describe('useCubby', () => {
  it('renders initial while loading, then the stored value, in every component that uses the key', async () => {
    let signIn!: (token: string) => void
    await using cubby = memoryCubby({ auth: () => new Promise<string>((resolve) => (signIn = resolve)) })
    await using view = mount(() => [h(Theme, { id: 'a' }), h(Theme, { id: 'b' })], { cubby })
    expect(view.text('a')).toBe('light loading')
    // The client asks for its token once its replica's code has loaded (an import() of its own).
    await vi.waitFor(() => expect(signIn).toBeTypeOf('function'))
    signIn(offlineToken('alice'))
    await cubby.store('theme', 'dark')
    await vi.waitFor(() => expect([view.text('a'), view.text('b')]).toEqual(['dark pending', 'dark pending']))
  })

  it('stores what is assigned to the ref', async () => {
    await using cubby = memoryCubby()
    await using view = mount(Theme, { cubby })
    await vi.waitFor(() => expect(view.text('theme')).toBe('light synced'))
    refs.theme!.value = 'dark'
    await vi.waitFor(() => expect(view.text('theme')).toBe('dark pending'))
    expect(await cubby.get('theme')).toBe('dark')
    expect(refs.theme!.meta.value).toMatchObject({ loaded: true, pending: true, synced: false, error: undefined })
  })

  it('shows a failed write as meta.error, never as a throw, and clears it on the next write', async () => {
    await using cubby = memoryCubby({ limits: { maxValueBytes: 16 } })
    await using view = mount(Theme, { cubby })
    await vi.waitFor(() => expect(view.text('theme')).toBe('light synced'))
    refs.theme!.value = 'x'.repeat(100) as 'dark'
    await vi.waitFor(() => expect(view.text('theme')).toBe('light error'))
    expect(refs.theme!.meta.value.error).toMatchObject({ code: 'VALUE_TOO_LARGE' })
    refs.theme!.value = 'dark'
    await vi.waitFor(() => expect(view.text('theme')).toBe('dark pending'))
  })

  it('follows a key given as a ref', async () => {
    await using cubby = memoryCubby()
    await cubby.storeMany([
      ['todo/1', { title: 'one' }],
      ['todo/2', { title: 'two' }],
    ])
    const id = ref<`todo/${string}`>('todo/1')
    const Todo = defineComponent(() => {
      const todo = useCubby(id, { title: '?' })
      return () => h('p', { 'data-testid': 'todo' }, todo.value.title)
    })
    await using view = mount(Todo, { cubby })
    await vi.waitFor(() => expect(view.text('todo')).toBe('one'))
    id.value = 'todo/2'
    await vi.waitFor(() => expect(view.text('todo')).toBe('two'))
  })
})

describe('useCubbyKeys and useCubbyStatus', () => {
  it('lists keys under a prefix and reports the status', async () => {
    await using cubby = memoryCubby()
    await cubby.store('todo/b', { title: 'B' })
    const List = defineComponent(() => {
      const keys = useCubbyKeys({ prefix: 'todo/' })
      const state = useCubbyStatus()
      return () => h('p', { 'data-testid': 'list' }, `${keys.value.join(',')} ${state.value.status} ${state.value.pendingCount}`)
    })
    await using view = mount(List, { cubby })
    await vi.waitFor(() => expect(view.text('list')).toBe('todo/b offline 1'))
    await cubby.store('todo/a', { title: 'A' })
    await vi.waitFor(() => expect(view.text('list')).toBe('todo/a,todo/b offline 2'))
    await cubby.delete('todo/b')
    await nextTick()
    await vi.waitFor(() => expect(view.text('list')).toBe('todo/a offline 3'))
  })
})

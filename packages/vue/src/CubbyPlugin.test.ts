// @vitest-environment happy-dom
import type { Cubby } from '@cubby/client'
import { provideCubby, useCubby, useCubbyClient } from '@cubby/vue'
import { createApp, defineComponent, h } from 'vue'
import { describe, expect, it, vi } from 'vitest'
import { type TestSchema, memoryCubby, mount, offlineToken } from './testing.fixture.js'

describe('CubbyPlugin', () => {
  it('creates the client from options and closes it when the app unmounts', async () => {
    let client: Cubby<TestSchema> | null = null
    const App = defineComponent(() => {
      client = useCubbyClient()
      const theme = useCubby('theme', 'light')
      return () => h('p', { 'data-testid': 'theme' }, `${theme.value} ${theme.meta.value.status}`)
    })
    const view = mount(App, { options: { url: 'http://127.0.0.1:9', cache: 'memory', connect: false, auth: offlineToken('alice') } })
    await vi.waitFor(() => expect(view.text('theme')).toBe('light synced'))
    await view[Symbol.asyncDispose]()
    await expect(client!.store('theme', 'dark')).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('lets a component give its subtree another client', async () => {
    await using outer = memoryCubby()
    await using inner = memoryCubby({ auth: offlineToken('bob') })
    await outer.store('note', 'outer')
    await inner.store('note', 'inner')
    const Note = defineComponent(() => {
      const note = useCubby('note', '')
      return () => h('span', note.value)
    })
    const Inner = defineComponent(() => {
      provideCubby(inner)
      return () => h(Note)
    })
    await using view = mount(() => h('p', { 'data-testid': 'notes' }, [h(Note), h(Inner)]), { cubby: outer })
    await vi.waitFor(() => expect(view.text('notes')).toBe('outerinner'))
  })

  it('refuses composables without the plugin', () => {
    const errors: unknown[] = []
    const app = createApp(defineComponent(() => (useCubby('theme', 'light'), () => null)))
    app.config.errorHandler = (error) => void errors.push(error)
    app.config.warnHandler = () => {}
    app.mount(document.createElement('div'))
    expect(String(errors[0])).toMatch(/CubbyPlugin/)
  })
})

import './dom.fixture.js'
import { startCliServer } from '@cubby/test-utils'
import { useCubby } from '@cubby/vue'
import { defineComponent, h } from 'vue'
import { expect, it, vi } from 'vitest'
import { mount, serverCubby } from './testing.fixture.js'

const Note = defineComponent(() => {
  const note = useCubby('note', '')
  return () => h('input', { 'data-testid': 'note', value: note.value, 'data-status': note.meta.value.status, onInput: (e: Event) => (note.value = (e.target as HTMLInputElement).value) })
})

it('syncs a write live to the same user’s other tab, pending until acknowledged, and not to another user', async () => {
  // A server process of its own: happy-dom's globals (timers, events) fill this process and would stall an
  // in-process server.
  await using server = await startCliServer()
  await using tab1 = serverCubby(server, 'alice')
  await using tab2 = serverCubby(server, 'alice')
  await using other = serverCubby(server, 'bob')
  await using a = mount(Note, { cubby: tab1 })
  await using b = mount(Note, { cubby: tab2 })
  await using c = mount(Note, { cubby: other })
  await Promise.all([tab1.ready(), tab2.ready(), other.ready()])
  const input = (view: typeof a): HTMLInputElement => view.container.querySelector('input')!

  tab1.disconnect()
  input(a).value = 'typed in tab 1'
  input(a).dispatchEvent(new Event('input'))
  await vi.waitFor(() => expect(input(a).dataset.status).toBe('pending'))
  tab1.connect()
  await vi.waitFor(() => expect(input(a).dataset.status).toBe('synced'))
  await vi.waitFor(() => expect([input(b).value, input(b).dataset.status]).toEqual(['typed in tab 1', 'synced']))
  await other.synced()
  expect(input(c).value).toBe('')
})

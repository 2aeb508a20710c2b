import './dom.fixture.js'
import { startCliServer } from '@cubby/test-utils'
import { useCubby } from '@cubby/vue'
import { defineComponent, h } from 'vue'
import { expect, it, vi } from 'vitest'
import { mount, serverCubby } from './testing.fixture.js'

const Note = defineComponent(() => {
  const note = useCubby('note', '')
  return () => h('p', { 'data-testid': 'note' }, `${note.value}|${note.meta.value.status}|${note.meta.value.error?.code ?? '-'}|${note.meta.value.version > 0 ? 'v' : '0'}`)
})

it('shows a conditional write the server rejected: CONFLICT in meta.error, and the server\'s value', async () => {
  await using server = await startCliServer()
  await using laptop = serverCubby(server, 'alice')
  await using phone = serverCubby(server, 'alice')
  await using view = mount(Note, { cubby: laptop })
  await Promise.all([laptop.synced(), phone.synced()])
  const text = (): string | null | undefined => view.container.querySelector('p')?.textContent
  await vi.waitFor(() => expect(text()).toBe('|synced|-|0'))

  laptop.disconnect()
  const write = laptop.store('note', 'laptop', { ifAbsent: true })
  await vi.waitFor(() => expect(text()).toBe('laptop|pending|-|0'))
  await phone.store('note', 'phone')
  await phone.synced()
  laptop.connect()
  await expect(write.settled).rejects.toMatchObject({ code: 'CONFLICT' })
  await vi.waitFor(() => expect(text()).toBe('phone|error|CONFLICT|v'))
})

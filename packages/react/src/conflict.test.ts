import './dom.fixture.js'
import { CubbyProvider, useCubby } from '@cubby/react'
import { startCliServer } from '@cubby/test-utils'
import { createElement as h } from 'react'
import { expect, it, vi } from 'vitest'
import { render, serverCubby } from './testing.fixture.js'

function Note() {
  const [note, , meta] = useCubby('note', '')
  return h('p', { 'data-testid': 'note' }, `${note}|${meta.status}|${meta.error?.code ?? '-'}|${meta.version > 0 ? 'v' : '0'}`)
}

it('shows a conditional write the server rejected: CONFLICT in meta.error, and the server\'s value', async () => {
  await using server = await startCliServer()
  await using laptop = serverCubby(server, 'alice')
  await using phone = serverCubby(server, 'alice')
  await using view = render(h(CubbyProvider, { cubby: laptop }, h(Note)))
  await Promise.all([laptop.synced(), phone.synced()])
  await vi.waitFor(() => expect(view.text('note')).toBe('|synced|-|0'))

  laptop.disconnect()
  const write = laptop.store('note', 'laptop', { ifAbsent: true })
  await vi.waitFor(() => expect(view.text('note')).toBe('laptop|pending|-|0'))
  await phone.store('note', 'phone')
  await phone.synced()
  laptop.connect()
  await expect(write.settled).rejects.toMatchObject({ code: 'CONFLICT' })
  await vi.waitFor(() => expect(view.text('note')).toBe('phone|error|CONFLICT|v'))
})

import './dom.fixture.js'
import { CubbyProvider, type CubbyStatusSnapshot, useCubby, useCubbyKeys, useCubbyStatus } from '@cubby/react'
import { startCliServer } from '@cubby/test-utils'
import { createElement as h } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { render, serverCubby } from './testing.fixture.js'

function Device({ status }: { status: { current?: CubbyStatusSnapshot } }) {
  const [note, setNote, meta] = useCubby('note', '')
  const keys = useCubbyKeys({ prefix: 'todo/' })
  status.current = useCubbyStatus()
  return h(
    'div',
    null,
    h('p', { 'data-testid': 'note' }, `${note} ${meta.status}`),
    h('p', { 'data-testid': 'keys' }, keys.join(',')),
    h('button', { 'data-testid': 'write', onClick: () => void setNote('hello') }),
  )
}

describe('with a real server', () => {
  it('shows a write as pending until the server acknowledges it, and live on the same user’s other device only', async () => {
    // A server process of its own: happy-dom's globals (timers, events) fill this process and would stall an
    // in-process server.
    await using server = await startCliServer()
    await using laptop = serverCubby(server, 'alice')
    await using phone = serverCubby(server, 'alice')
    await using stranger = serverCubby(server, 'bob')
    const laptopStatus: { current?: CubbyStatusSnapshot } = {}
    await using a = render(h(CubbyProvider, { cubby: laptop }, h(Device, { status: laptopStatus })))
    await using b = render(h(CubbyProvider, { cubby: phone }, h(Device, { status: {} })))
    await using c = render(h(CubbyProvider, { cubby: stranger }, h(Device, { status: {} })))
    await Promise.all([laptop.ready(), phone.ready(), stranger.ready()])
    await vi.waitFor(() => expect(laptopStatus.current).toMatchObject({ status: 'online', loaded: true, userId: 'alice', pendingCount: 0 }))

    laptop.disconnect()
    a.container.querySelector<HTMLButtonElement>('[data-testid="write"]')!.click()
    await vi.waitFor(() => expect(a.text('note')).toBe('hello pending'))
    expect(laptopStatus.current).toMatchObject({ status: 'offline', pendingCount: 1 })
    laptop.connect()
    await vi.waitFor(() => expect(a.text('note')).toBe('hello synced'))
    await vi.waitFor(() => expect(b.text('note')).toBe('hello synced'))
    expect(laptopStatus.current).toMatchObject({ status: 'online', pendingCount: 0 })

    await phone.store('todo/1', { title: 'from the phone' })
    await vi.waitFor(() => expect(a.text('keys')).toBe('todo/1'))
    await Promise.all([laptop.synced(), phone.synced()])
    expect(c.text('note')).toBe(' synced')
    expect(c.text('keys')).toBe('')
  })
})

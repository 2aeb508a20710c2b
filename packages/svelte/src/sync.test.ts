import { cubby, cubbyStatus } from '@cubby/svelte'
import { startTestServer } from '@cubby/test-utils'
import { get } from 'svelte/store'
import { expect, it, vi } from 'vitest'
import { serverCubby } from './testing.fixture.js'

it('syncs a store live to the same user’s other device, pending until acknowledged, and not to another user', async () => {
  await using server = await startTestServer()
  await using laptop = serverCubby(server, 'alice')
  await using phone = serverCubby(server, 'alice')
  await using other = serverCubby(server, 'bob')
  const notes = [laptop, phone, other].map((client) => cubby('note', '', { cubby: client }))
  const unsubscribe = notes.map((note) => note.subscribe(() => {}))
  try {
    await Promise.all([laptop.ready(), phone.ready(), other.ready()])
    expect(get(cubbyStatus({ cubby: laptop }))).toMatchObject({ status: 'online', userId: 'alice' })
    laptop.disconnect()
    notes[0]!.set('from the laptop')
    await vi.waitFor(() => expect(get(notes[0]!.meta).status).toBe('pending'))
    laptop.connect()
    await vi.waitFor(() => expect(get(notes[0]!.meta).status).toBe('synced'))
    await vi.waitFor(() => expect([get(notes[1]!), get(notes[1]!.meta).status]).toEqual(['from the laptop', 'synced']))
    await other.synced()
    expect(get(notes[2]!)).toBe('')
  } finally {
    for (const stop of unsubscribe) stop()
  }
})

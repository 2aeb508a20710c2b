import { cubby } from '@cubby/svelte'
import { startCliServer } from '@cubby/test-utils'
import { get } from 'svelte/store'
import { expect, it, vi } from 'vitest'
import { serverCubby } from './testing.fixture.js'

it('shows a conditional write the server rejected: CONFLICT in meta.error, and the server\'s value', async () => {
  await using server = await startCliServer()
  await using laptop = serverCubby(server, 'alice')
  await using phone = serverCubby(server, 'alice')
  const note = cubby('note', '', { cubby: laptop })
  const stop = [note.subscribe(() => {}), note.meta.subscribe(() => {})]
  try {
    await Promise.all([laptop.synced(), phone.synced()])
    laptop.disconnect()
    const write = laptop.store('note', 'laptop', { ifAbsent: true })
    await vi.waitFor(() => expect([get(note), get(note.meta).status]).toEqual(['laptop', 'pending']))
    await phone.store('note', 'phone')
    await phone.synced()
    laptop.connect()
    await expect(write.settled).rejects.toMatchObject({ code: 'CONFLICT' })
    await vi.waitFor(() => expect([get(note), get(note.meta).status, get(note.meta).error?.code]).toEqual(['phone', 'error', 'CONFLICT']))
    expect(get(note.meta).version).toBeGreaterThan(0)
  } finally {
    for (const s of stop) s()
  }
})

import { type Cubby, type CubbyOptions } from '@cubby/client'
import { connectTestClient, startTestServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'
import { installTestLocks } from '../client/testLocks.js'

// Node has BroadcastChannel and one IndexedDB per process, like a browser's tabs; this adds Web Locks.
installTestLocks()

const tabOf = (url: string, options: Partial<CubbyOptions>): Cubby => connectTestClient(url, { name: 'cas-tabs-app', ...options })

it('counts every update of the leader tab and a follower tab, and gives a follower the verdict of its conditional write', async () => {
  await using server = await startTestServer()
  const options = { auth: server.token('tabs') }
  await using leader = tabOf(server.url, options)
  await leader.ready()
  await using follower = tabOf(server.url, options)
  await follower.ready()
  expect([leader.tabs, follower.tabs]).toEqual(['coordinate', 'coordinate'])
  const settled: Array<Promise<void>> = []
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 10; i++) {
      settled.push(leader.update('n', (n = 0) => (n as number) + 1).settled, follower.update('n', (n = 0) => (n as number) + 1).settled)
    }
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  await Promise.all(settled)
  await vi.waitFor(async () => expect([await leader.get('n'), await follower.get('n')]).toEqual([100, 100]))
  expect(await server.cubby.get('tabs', 'n')).toBe(100)

  await server.cubby.store('tabs', 'seat', 'taken')
  await vi.waitFor(async () => expect(await follower.get('seat')).toBe('taken'))
  await expect(follower.store('seat', 'mine', { ifAbsent: true }).settled).rejects.toMatchObject({ code: 'CONFLICT' })
  await vi.waitFor(async () => expect([await follower.get('seat'), await leader.get('seat')]).toEqual(['taken', 'taken']))
})

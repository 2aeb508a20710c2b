import { randomUUID } from 'node:crypto'
import type { Cubby, CubbyErrorDetail } from '@cubby/client'
import { isCubbyError } from '@cubby/protocol'
import { connectTestClient, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { installTestLocks } from '../client/testLocks.js'

// Node has BroadcastChannel and one fake IndexedDB per process, like the tabs of a browser; this adds Web Locks.
installTestLocks()

/** A WebSocket class whose sockets all go to a closed port (never any other address than 127.0.0.1). */
class Unreachable extends WebSocket {
  constructor() {
    super('ws://127.0.0.1:9')
  }
}
const unreachable = Unreachable as unknown as typeof globalThis.WebSocket

describe('cubby.signIn with other tabs of the anonymous user', () => {
  for (const signer of ['leader', 'follower'] as const) {
    it(`stops the other tabs with an error when the ${signer} tab signs in, and carries their writes`, async () => {
      await using server = await startCliServer()
      const name = `tabs-${randomUUID()}`
      await using first = connectTestClient(server.url, { name })
      await first.ready()
      await using second = connectTestClient(server.url, { name })
      await second.ready()
      expect(first.tabs).toBe('coordinate')
      expect(second.userId).toBe(first.userId)
      const [signing, other]: [Cubby, Cubby] = signer === 'leader' ? [first, second] : [second, first]
      const errors: CubbyErrorDetail[] = []
      other.addEventListener('error', (e) => errors.push(e.detail))
      await other.store('from-other', 1)
      await other.synced()
      await signing.store('from-signer', 2)

      expect((await signing.signIn(server.token('kim'))).account).toBe('kim')
      // Closed: told by the signing tab (CLOSED), or by the server (user-deleted: UNAUTHORIZED, not a stop of the connection).
      await vi.waitFor(() => expect(errors.filter((e) => e.stopped === undefined).map((e) => e.error.code)).toContainEqual(expect.stringMatching(/^(CLOSED|UNAUTHORIZED)$/)))
      // The other tab no longer writes as the deleted user: it is closed.
      const late: unknown = await other.store('late', 3).catch((e: unknown) => e)
      expect(isCubbyError(late, 'CLOSED')).toBe(true)
      await signing.synced()
      await vi.waitFor(async () => expect(Object.fromEntries(await signing.entries())).toEqual({ 'from-other': 1, 'from-signer': 2 }))
      const res = await fetch(`${server.url}/v1/values/from-signer`, { headers: { authorization: `Bearer ${server.token('kim')}` } })
      expect(await res.json()).toBe(2)
    })
  }

  it('hands the carried writes to a tab of the account that leads already', async () => {
    await using server = await startCliServer()
    const name = `tabs-${randomUUID()}`
    await using accountTab = connectTestClient(server.url, { name, auth: server.token('noa') })
    await accountTab.ready()
    // This tab's own sockets never reach the server: what it carries can only get there through the account's leader.
    await using anonymousTab = connectTestClient(server.url, { name, WebSocket: unreachable })
    await anonymousTab.store('offline', 1)
    await anonymousTab.signIn(server.token('noa'))
    expect(anonymousTab.tabs).toBe('coordinate')
    await vi.waitFor(async () => expect(await accountTab.get('offline')).toBe(1))
    await anonymousTab.synced()
    const res = await fetch(`${server.url}/v1/values/offline`, { headers: { authorization: `Bearer ${server.token('noa')}` } })
    expect(await res.json()).toBe(1)
  })
})

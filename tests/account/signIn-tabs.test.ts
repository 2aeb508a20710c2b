import { randomUUID } from 'node:crypto'
import type { Cubby, CubbyErrorDetail } from '@cubby/client'
import { isCubbyError } from '@cubby/protocol'
import { connectTestClient, startCliServer } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { installTestLocks } from '../client/testLocks.js'

// Node has BroadcastChannel and one fake IndexedDB per process, like the tabs of a browser; this adds Web Locks.
installTestLocks()

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
      await vi.waitFor(() => expect(errors.map((e) => e.error.code)).toContainEqual(expect.stringMatching(/^(CLOSED|UNAUTHORIZED)$/)))
      // The other tab no longer writes as the deleted user: it is closed.
      const late: unknown = await other.store('late', 3).catch((e: unknown) => e)
      expect(isCubbyError(late, 'CLOSED')).toBe(true)
      await signing.synced()
      await vi.waitFor(async () => expect(Object.fromEntries(await signing.entries())).toEqual({ 'from-other': 1, 'from-signer': 2 }))
      const res = await fetch(`${server.url}/v1/values/from-signer`, { headers: { authorization: `Bearer ${server.token('kim')}` } })
      expect(await res.json()).toBe(2)
    })
  }
})

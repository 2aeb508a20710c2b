import { randomBytes } from 'node:crypto'
import { connectTestClient, signTestToken, startRedisCluster, startCliServer } from '@cubby/test-utils'
import { expect, it, vi } from 'vitest'

it('syncs two devices of one user live through two cubby-server nodes on a Redis Cluster (sharded pub/sub)', async () => {
  await using cluster = await startRedisCluster({ masters: 3 })
  const secret = randomBytes(32).toString('base64url')
  const env = { CUBBY_SECRET: secret, CUBBY_REDIS_CLUSTER: cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(',') }
  await using a = await startCliServer({ env })
  await using b = await startCliServer({ env })
  const wait = { timeout: 10_000 }
  // Printed right after the listening line the start waits for.
  await vi.waitFor(() => expect(a.output()).toContain('redis cluster: '), wait)
  // Several users, spread over the shards by their hash tags.
  for (const userId of ['alice', 'bob', 'carol']) {
    const token = signTestToken(secret, userId)
    await using onA = connectTestClient(a.url, { auth: token })
    await using onB = connectTestClient(b.url, { auth: token })
    await Promise.all([onA.synced(), onB.synced()])
    await onA.store('from-a', userId)
    await vi.waitFor(async () => expect(await onB.get('from-a')).toBe(userId), wait)
    await onB.store('from-b', userId)
    await vi.waitFor(async () => expect(await onA.get('from-b')).toBe(userId), wait)
  }
}, 60_000)

import { connectUser, startRedis, startTestServer } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'
import { createRedisStorage } from './createRedisStorage.js'

describe('expiry on the Redis storage', () => {
  it('refuses a value that expires with INVALID_VALUE, as the Redis storage has no expiry index yet, and keeps nothing', async () => {
    await using redis = await startRedis()
    const storage = createRedisStorage({ redis: redis.url })
    await using server = await startTestServer({ storage })
    await using socket = await connectUser(server, 'alice')
    socket.send({ type: 'push', clientId: 'c1', mutations: [
      { op: 'store', mid: 1, key: 'k', value: '1', expiresAt: Date.now() + 60_000 },
      { op: 'store', mid: 2, key: 'j', value: '2' },
    ] })
    const ack = await socket.next('ack')
    expect(ack.results).toEqual([{ mid: 1, error: { code: 'INVALID_VALUE', message: expect.any(String) } }, { mid: 2, rev: 1 }])
    expect(await server.cubby.get('alice', 'k')).toBeUndefined()
    await expect(server.cubby.store('alice', 'k', 1, { ttl: 1000 })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await storage.close()
  })
})

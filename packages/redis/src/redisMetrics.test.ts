import { startRedis, startTcpForwarder } from '@cubby/test-utils'
import { Registry } from 'prom-client'
import { expect, it, vi } from 'vitest'
import { createRedisStorage } from './createRedisStorage.js'

const errors = async (registry: Registry): Promise<Record<string, number>> => {
  const metric = await registry.getSingleMetric('cubby_redis_command_errors_total')!.get()
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.client}/${v.labels.kind}`, v.value]))
}

it('counts failed commands of the storage by kind: a script error, another error reply, no answer', async () => {
  await using redis = await startRedis()
  await using forwarder = await startTcpForwarder(redis.port)
  const storage = createRedisStorage({ redis: `redis://127.0.0.1:${forwarder.port}` })
  const registry = new Registry()
  storage.registerMetrics?.(registry, { catchUp: () => {} })
  await storage.open()
  try {
    expect(await errors(registry)).toEqual({ 'storage/connection': 0, 'storage/script': 0, 'storage/other': 0 })
    await expect(storage.redis.eval('error("boom")', 0)).rejects.toThrow(/boom/)
    await expect(storage.redis.call('NO-SUCH-COMMAND')).rejects.toThrow(/unknown command/)
    // A pipeline's commands count too.
    await expect(storage.redis.pipeline().eval('error("again")', 0).exec()).resolves.toHaveLength(1)
    expect(await errors(registry)).toEqual({ 'storage/connection': 0, 'storage/script': 2, 'storage/other': 1 })
    // A command in flight when the connection drops gets no answer (the storage never resends it).
    const blocked = storage.redis.call('DEBUG', 'SLEEP', '2')
    await vi.waitFor(() => expect(forwarder.bytesFromClients).toBeGreaterThan(0))
    forwarder.cutAll()
    await expect(blocked).rejects.toThrow()
    expect((await errors(registry))['storage/connection']).toBe(1)
    // And the connection that comes back counts as a reconnect.
    await storage.redis.ping()
    const reconnects = await registry.getSingleMetric('cubby_redis_reconnects_total')!.get()
    expect(reconnects.values).toEqual([{ labels: { client: 'storage' }, value: 1 }])
  } finally {
    await storage.close()
  }
})

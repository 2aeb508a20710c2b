import { startRedisDeployment } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'

describe('a cubby-server node while its Redis is down', () => {
  it('stops within seconds of SIGTERM, with a sweep and a write waiting on Redis', async () => {
    await using deployment = await startRedisDeployment()
    const [a, b] = deployment.nodes
    await deployment.redis.kill9()
    // A write waits on Redis (ioredis holds it through its reconnection attempts), and so does the sweep that
    // looks at the expiry index every second.
    const write = fetch(`${a.url}/v1/values/k`, { method: 'PUT', headers: { authorization: `Bearer ${deployment.token('alice')}`, 'content-type': 'application/json' }, body: '1' }).catch(() => undefined)
    await vi.waitFor(() => expect(a.output()).toMatch(/ECONNREFUSED/), { timeout: 10_000, interval: 50 })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    // Disposing sends SIGTERM and throws when the process is still there 10 s later.
    await a[Symbol.asyncDispose]()
    await b[Symbol.asyncDispose]()
    // The write was not acknowledged: a client gets no answer or an error, never a success.
    const res = await write
    expect(res?.status ?? 0).not.toBe(200)
  }, 60_000)
})

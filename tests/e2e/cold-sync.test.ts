import { connectTestClient, openRawSocket, startCliServer } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'

const KEYS = 10_000

describe('cold sync', () => {
  it('streams 10,000 keys to a cold client in batches and reports ready only when all have arrived', async () => {
    await using server = await startCliServer()
    const token = server.token('quinn')
    // Fill the user through the protocol: 10 pushes of 1,000 writes.
    await using filler = await openRawSocket(server.url)
    filler.hello(token)
    await filler.next('synced')
    for (let batch = 0; batch < 10; batch++) {
      const mutations = Array.from({ length: 1000 }, (_, i) => {
        const n = batch * 1000 + i
        return { op: 'store', mid: n + 1, key: `item/${String(n).padStart(5, '0')}`, value: JSON.stringify('v'.repeat(100)) }
      })
      filler.send({ type: 'push', clientId: 'filler', mutations })
    }
    await filler.next('ack', (f) => (f.results as Array<{ mid: number }>).some((r) => r.mid === KEYS))

    // The protocol view: one hello, a stream of batched `changes` frames, then `synced`.
    await using raw = await openRawSocket(server.url)
    raw.hello(token)
    await raw.next('synced')
    const frames = raw.frames.filter((f) => f.type === 'changes')
    expect(frames.reduce((n, f) => n + (f.changes as unknown[]).length, 0)).toBe(KEYS)
    expect(frames.length).toBeLessThanOrEqual(KEYS / 100)

    // The client view: ready() resolves with every key in hand, never before.
    await using cold = connectTestClient(server.url, { auth: token })
    await cold.ready()
    const keys = await cold.list()
    expect(keys).toHaveLength(KEYS)
    expect(await cold.get('item/09999')).toBe('v'.repeat(100))
  })
})

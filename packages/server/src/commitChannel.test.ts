import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { connectUser, startTestServer } from '@cubby/test-utils'
import { describe, expect, it } from 'vitest'

describe('the cubby:commit diagnostics channel', () => {
  it('announces the writes each push or call committed, and nothing for refused ones', async () => {
    await using server = await startTestServer()
    const heard: unknown[] = []
    const listener = (mutations: unknown): void => void heard.push(mutations)
    subscribe('cubby:commit', listener)
    try {
      await server.cubby.store('alice', 'a', 1)
      await using socket = await connectUser(server, 'alice')
      const mutations = [
        { op: 'store', mid: 1, key: 'b', value: '2' },
        { op: 'store', mid: 2, key: 'c', value: '3' },
        { op: 'store', mid: 3, key: 'a', value: '4', if: { absent: true } },
      ]
      socket.send({ type: 'push', clientId: 'phone', mutations })
      const { results } = await socket.next('ack')
      expect(results.map((r) => 'error' in r ? r.error.code : 'ok')).toEqual(['ok', 'ok', 'CONFLICT'])
      await expect(server.cubby.store('alice', '', 1)).rejects.toThrow()
      await expect(server.cubby.store('alice', 'a', 5, { ifAbsent: true })).rejects.toThrow()
      expect(heard).toEqual([1, 2])
    } finally {
      unsubscribe('cubby:commit', listener)
    }
  })
})

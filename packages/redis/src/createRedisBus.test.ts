import { createCubbyServer, type ChangeBus, type CubbyServer } from '@cubby/server'
import { freePort, openRawSocket, startTcpForwarder, type RawSocket, useSharedRedis } from '@cubby/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { createRedisBus, type RedisBusOptions } from './createRedisBus.js'
import { createRedisStorage, type RedisStorage } from './createRedisStorage.js'
import { userTag } from './redisKeys.js'

const servers = useSharedRedis()

interface Node extends AsyncDisposable {
  cubby: CubbyServer
  url: string
  storage: RedisStorage
  bus: ChangeBus
}

let tests = 0
/** A server node in this process on its own storage client and bus, on a key prefix per test. */
async function startNode(prefix: string, connection: Pick<RedisBusOptions, 'redis' | 'cluster'>, busConnection = connection): Promise<Node> {
  const storage = createRedisStorage({ ...connection, prefix })
  const bus = createRedisBus({ ...busConnection, prefix })
  const cubby = createCubbyServer({ storage, bus, secret: 'shared-secret', logger: null })
  const { url } = await cubby.listen()
  return {
    cubby, url, storage, bus,
    async [Symbol.asyncDispose]() {
      await cubby.close()
      await bus.close()
      await storage.close()
    },
  }
}

async function connect(node: Node, userId: string): Promise<RawSocket> {
  const socket = await openRawSocket(node.url)
  socket.hello(await node.cubby.issueToken(userId))
  await socket.next('synced')
  return socket
}

const revs = (socket: RawSocket): number[] =>
  socket.frames.filter((f) => f.type === 'changes').flatMap((f) => (f.changes as Array<{ rev: number }>).map((c) => c.rev))

/** Subscribers of a user's channel on the Redis. */
async function subscribers(prefix: string, userId: string): Promise<number> {
  const answer = await servers.redis.cli('PUBSUB', 'NUMSUB', `${prefix}${userTag(userId)}:bus`)
  return Number(answer.trim().split('\n').at(-1))
}

describe.each([
  ['redis-server', () => ({ redis: servers.redis.url })],
  ['Redis Cluster', () => ({ redis: {}, cluster: servers.cluster.startupNodes })],
])('createRedisBus on %s', (_, connection) => {
  it('sends a session the commits made through another node live, and no other user\'s', async () => {
    const prefix = `b${++tests}:`
    await using a = await startNode(prefix, connection())
    await using b = await startNode(prefix, connection())
    await using reader = await connect(b, 'alice')
    await using bystander = await connect(b, 'bob')
    await a.cubby.store('carol', 'k', 1)
    for (let i = 1; i <= 5; i++) await a.cubby.store('alice', `k${i}`, i)
    await reader.next('changes', (f) => f.rev === 5)
    expect(revs(reader)).toEqual([1, 2, 3, 4, 5])
    expect(bystander.frames.filter((f) => f.type === 'changes')).toEqual([])
  })

  it('closes the sessions on every node of a user deleted through one (4010)', async () => {
    const prefix = `b${++tests}:`
    await using a = await startNode(prefix, connection())
    await using b = await startNode(prefix, connection())
    await a.cubby.store('alice', 'k', 1)
    await using session = await connect(b, 'alice')
    await a.cubby.deleteUser('alice')
    await session.next('user-deleted')
    expect(await session.closed).toBe(4010)
  })
})

it('reads from storage what a node missed while its bus connection was down', async () => {
  const prefix = `b${++tests}:`
  await using forwarder = await startTcpForwarder(servers.redis.port)
  await using a = await startNode(prefix, { redis: servers.redis.url })
  await using b = await startNode(prefix, { redis: servers.redis.url }, { redis: `redis://127.0.0.1:${forwarder.port}` })
  await using reader = await connect(b, 'alice')
  await vi.waitFor(async () => expect(await subscribers(prefix, 'alice')).toBe(1))
  // Node B's bus loses Redis (it cannot reconnect yet) while alice writes through node A.
  forwarder.retarget(await freePort())
  forwarder.cutAll()
  await vi.waitFor(async () => expect(await subscribers(prefix, 'alice')).toBe(0))
  await a.cubby.store('alice', 'k', 1)
  await a.cubby.store('alice', 'j', 2)
  forwarder.retarget(servers.redis.port)
  await reader.next('changes', (f) => f.rev === 2)
  expect(revs(reader)).toEqual([1, 2])
})

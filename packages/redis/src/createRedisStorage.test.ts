import type { Mutation } from '@cubby/protocol'
import type { UserRecord } from '@cubby/server'
import { runStorageContract, type StorageContractFixture, type StorageContractOptions } from '@cubby/server/storage-contract'
import { startRedis, startTcpForwarder, type TestRedis, useSharedRedis } from '@cubby/test-utils'
import { once } from 'node:events'
import { Cluster, type Redis } from 'ioredis'
import { describe, expect, it, vi } from 'vitest'
import { createRedisStorage, type RedisStorage, type RedisStorageOptions } from './createRedisStorage.js'
import { userTag } from './redisKeys.js'

const servers = useSharedRedis()

let tests = 0
/** A fixture on its own key prefix, so tests share one server without seeing each other. */
async function fixture(connection: () => Pick<RedisStorageOptions, 'redis' | 'cluster'>, options: StorageContractOptions = {}): Promise<StorageContractFixture & { storage: RedisStorage; prefix: string }> {
  const prefix = `t${++tests}:`
  const open = async (): Promise<RedisStorage> => {
    const storage = createRedisStorage({ ...connection(), prefix, ...options })
    await storage.open()
    return storage
  }
  let current = await open()
  return {
    prefix,
    get storage() { return current },
    async reopen() {
      await current.close()
      current = await open()
      return current
    },
    async [Symbol.asyncDispose]() {
      await current.close()
    },
  }
}

/** The cluster node that serves a slot (its own line of CLUSTER NODES ends with its slot ranges). */
async function ownerOf(slot: number): Promise<TestRedis> {
  for (const node of servers.cluster.nodes) {
    const mine = (await node.cli('CLUSTER', 'NODES')).split('\n').find((line) => line.includes('myself')) ?? ''
    const ranges = mine.split(' ').slice(8).map((r) => r.split('-').map(Number))
    if (ranges.some(([from, to]) => from !== undefined && slot >= from && slot <= (to ?? from))) return node
  }
  throw new Error(`no node serves slot ${slot}`)
}

/** The Redis keys of a fixture's storage that match a pattern, on every master. */
async function redisKeys(f: { storage: RedisStorage }, pattern: string): Promise<string[]> {
  const client = f.storage.redis
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  return (await Promise.all(nodes.map((n) => n.keys(pattern)))).flat()
}

const single = (options?: StorageContractOptions) => fixture(() => ({ redis: servers.redis.url }), options)
const clustered = (options?: StorageContractOptions) => fixture(() => ({ redis: {}, cluster: servers.cluster.startupNodes }), options)

runStorageContract('createRedisStorage on a redis-server', single)
runStorageContract('createRedisStorage on a 3-master Redis Cluster', clustered)

const store = (mid: number, key: string, value: string): Mutation => ({ op: 'store', mid, key, value })
/** User ids and keys that look like hash tags or separators of a naive Redis layout. */
const TAGGY = ['{a}', 'a', '{', '}', '{}', '}{', '{a}b', 'b{a}', '{{a}}', 'a}:m', ':m', '{61}', '61', 'x:d', '*', '?[]\\', 'a\x00{b}']

describe.each([['a redis-server', single], ['a Redis Cluster', clustered]] as const)('createRedisStorage on %s', (_, setup) => {
  it('keeps users and keys full of braces, hash-tag look-alikes and separators apart', async () => {
    await using f = await setup()
    await Promise.all(TAGGY.map((u) => f.storage.commit(u, TAGGY.map((key, i) => store(i + 1, key, JSON.stringify(u))))))
    for (const u of TAGGY) {
      const entries = await f.storage.list(u, { limit: 100 })
      expect(entries.map((e) => e.key).sort()).toEqual([...TAGGY].sort())
      expect(new Set(entries.map((e) => e.value))).toEqual(new Set([JSON.stringify(u)]))
      expect((await f.storage.list(u, { prefix: '{a', limit: 100 })).map((e) => e.key)).toEqual(['{a}', '{a}b'])
      expect(await f.storage.get(u, '{a}')).toEqual({ key: '{a}', rev: 1, value: JSON.stringify(u) })
    }
    const users = await f.storage.users({ limit: 100 })
    expect(users.map((u) => u.userId).sort()).toEqual([...TAGGY].sort())
    expect(users.every((u) => u.head === TAGGY.length && u.keys === TAGGY.length)).toBe(true)
    await f.storage.deleteUser('{a}')
    expect(await f.storage.head('a')).toBe(TAGGY.length)
    expect(await f.storage.deletedAt('a')).toBeUndefined()
    expect((await f.storage.users({ limit: 100 })).map((u) => u.userId)).not.toContain('{a}')
  })

  it('gives snapshots that later commits, clears and deletions of the user do not change', async () => {
    await using f = await setup()
    await f.storage.commit('u', [...Array.from({ length: 100 }, (_, i) => store(i + 1, `k${i}`, `v${i}`)), store(101, 'gone', 'g'), { op: 'delete', mid: 102, key: 'gone' }])
    // Two open at once: a clear moves the records aside (RENAME) once, and both read that one frozen copy.
    const snapshots = [await f.storage.snapshot('u'), await f.storage.snapshot('u')] as const
    const first = await snapshots[0].next(7)
    await f.storage.commit('u', [store(1, 'k50', 'new'), { op: 'delete', mid: 2, key: 'k60' }, store(3, 'added', 'x'), { op: 'clear', mid: 4 }, store(5, 'k70', 'after')])
    expect(await redisKeys(f, `${f.prefix}${userTag('u')}:s:*:[fk]`)).toHaveLength(2)
    await f.storage.deleteUser('u')
    await f.storage.commit('u', [store(1, 'k1', 'reborn')])
    const expected = [...Array.from({ length: 100 }, (_, i) => ({ rev: i + 1, key: `k${i}`, value: `v${i}` })), { rev: 102, key: 'gone', deleted: true }]
    expected.sort((a, b) => (a.key < b.key ? -1 : 1))
    for (const [i, snapshot] of snapshots.entries()) {
      const records = i === 0 ? [...first] : []
      for (let page = await snapshot.next(7), n = 0; page.length > 0 && n < 100; page = await snapshot.next(7), n++) records.push(...page)
      await snapshot.close()
      expect([snapshot.head, snapshot.clearRev]).toEqual([102, 0])
      expect(records).toEqual(expected)
    }
    expect(await redisKeys(f, `${f.prefix}${userTag('u')}:[sn]*`)).toEqual([])
  })

  it('gives a snapshot taken after changes exactly the state at its head', async () => {
    await using f = await setup()
    await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2'), { op: 'clear', mid: 3 }, store(4, 'c', '4'), store(5, 'd', '5'), { op: 'delete', mid: 6, key: 'd' }])
    const snapshot = await f.storage.snapshot('u')
    await f.storage.commit('u', [store(1, 'c', 'x'), store(2, 'e', 'x'), { op: 'delete', mid: 3, key: 'c' }])
    expect(await snapshot.next(10)).toEqual([{ rev: 4, key: 'c', value: '4' }, { rev: 6, key: 'd', deleted: true }])
    expect([snapshot.head, snapshot.clearRev]).toEqual([6, 3])
    await snapshot.close()
  })

  it('removes a closed snapshot\'s copy', async () => {
    await using f = await setup()
    await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2'), { op: 'delete', mid: 3, key: 'b' }])
    const snapshot = await f.storage.snapshot('u')
    expect(await snapshot.next(10)).toEqual([{ rev: 1, key: 'a', value: '1' }, { rev: 3, key: 'b', deleted: true }])
    await snapshot.close()
    expect(await redisKeys(f, `${f.prefix}${userTag('u')}:[sn]*`)).toEqual([])
  })
})

describe.each([['a redis-server', single], ['a Redis Cluster', clustered]] as const)('deletion and pruning on %s', (_, setup) => {
  it('lists users by the time of their last write, page by page, without deleted users or users without that time', async () => {
    await using f = await setup()
    const users = ['a', 'b', 'c', 'd', 'e']
    for (const u of users) await f.storage.commit(u, [store(1, 'k', '1')])
    await f.storage.deleteUser('c')
    // A meta from before the time of the last write was kept.
    await f.storage.redis.hdel(`${f.prefix}${userTag('e')}:m`, 'u')
    const now = Math.floor(Date.now() / 1000)
    expect(await f.storage.usersUnusedSince({ before: now + 1, limit: 10 })).toEqual(['a', 'b', 'd'])
    expect(await f.storage.usersUnusedSince({ before: now + 1, limit: 2 })).toEqual(['a', 'b'])
    expect(await f.storage.usersUnusedSince({ before: now + 1, after: 'b', limit: 2 })).toEqual(['d'])
    expect(await f.storage.usersUnusedSince({ before: now - 3600, limit: 10 })).toEqual([])
  })

  it('keeps the deletion barrier through an import until the import completes', async () => {
    await using f = await setup()
    await f.storage.commit('u', [store(1, 'a', '1'), store(2, 'b', '2')])
    const exported: UserRecord[] = []
    for await (const record of f.storage.exportUser('u')) exported.push(record)
    const before = Date.now()
    await f.storage.deleteUser('u')
    async function* broken(): AsyncGenerator<UserRecord> {
      yield exported[0]!
      throw new Error('the import stream broke')
    }
    await expect(f.storage.importUser('u', broken())).rejects.toThrow('the import stream broke')
    expect(await f.storage.deletedAt('u')).toBeDefined()
    const late = await f.storage.commit('u', [store(3, 'c', '3')], 'c', { authorizedAt: before })
    expect(late.results).toEqual([{ mid: 3, error: expect.objectContaining({ code: 'UNAUTHORIZED' }) }])
    expect(await f.storage.importUser('u', (async function* () { yield* exported })())).toEqual({ head: 2, records: 2 })
    expect(await f.storage.deletedAt('u')).toBeUndefined()
    expect((await f.storage.commit('u', [store(3, 'c', '3')], 'c', { authorizedAt: before })).results).toEqual([{ mid: 3, rev: 3 }])
  })

  it('writes nothing more of an import once the user is deleted during it', async () => {
    await using f = await setup()
    await f.storage.commit('u', [store(1, 'a', '1')])
    const [header, record] = [{ type: 'user', v: 1, userId: 'w', head: 1, clearRev: 0 }, { type: 'value', key: 'a', rev: 1, value: '1' }] as const
    const storage = f.storage
    async function* deletedMidway(): AsyncGenerator<UserRecord> {
      yield header
      await storage.deleteUser('w')
      yield record
    }
    await expect(storage.importUser('w', deletedMidway())).rejects.toMatchObject({ code: 'BAD_MESSAGE' })
    expect(await storage.list('w', { limit: 10 })).toEqual([])
    expect((await storage.users({ limit: 10 })).map((u) => u.userId)).toEqual(['u'])
    expect(await storage.deletedAt('w')).toBeDefined()
  })
})

describe('clears and deletions on a redis-server', () => {
  it('hands a large user\'s records to Redis\'s background thread, and purge() waits until it freed them', async () => {
    await using f = await single()
    const stat = async (name: string): Promise<number> => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(await servers.redis.cli('INFO', 'all'))?.[1])
    for (const u of ['u', 'v']) {
      for (let i = 0; i < 5; i++) await f.storage.commit(u, Array.from({ length: 1000 }, (_, j) => store(j + 1, `k${i * 1000 + j}`, 'v')))
    }
    const freedBefore = await stat('lazyfreed_objects')
    await f.storage.commit('u', [{ op: 'clear', mid: 1 }])
    await f.storage.deleteUser('v')
    await f.storage.purge()
    expect(await stat('lazyfree_pending_objects')).toBe(0)
    // The records, key index and log of each user: freed by the background thread, not by the script.
    expect(await stat('lazyfreed_objects') - freedBefore).toBeGreaterThanOrEqual(6)
  })
})

describe('reads on a redis-server', () => {
  /** Scripts run by a read: EVALSHA calls on the server (tests in a file run one at a time). */
  async function scriptsRunBy(read: () => Promise<unknown>, warmUp = read): Promise<number> {
    const calls = async (): Promise<number> => Number(/^cmdstat_evalsha:calls=(\d+)/m.exec(await servers.redis.cli('INFO', 'commandstats'))?.[1] ?? 0)
    await warmUp() // loads the script
    const before = await calls()
    await read()
    return await calls() - before
  }

  it('scans at most a bounded number of keys per script, however many tombstones, log entries or new keys a read passes', async () => {
    await using f = await single()
    const many = Array.from({ length: 3000 }, (_, i) => `k${String(i).padStart(4, '0')}`)
    await f.storage.commit('u', [store(1, 'a', '1'), ...many.map((key, i) => store(i + 2, key, 'v'))])
    await f.storage.commit('u', many.map((key, i) => ({ op: 'delete', mid: i + 1, key })))
    await f.storage.commit('u', [store(1, 'z', '1')])
    const list = () => f.storage.list('u', { after: 'a', limit: 10 })
    expect(await list()).toEqual([{ key: 'z', rev: 6002, value: '1' }])
    expect(await scriptsRunBy(list)).toBeGreaterThanOrEqual(3)
    // So does a long page of the change log.
    const changes = () => f.storage.changesSince('u', 0, 10_000)
    expect(await changes()).toMatchObject({ rev: 6002, changes: { length: 3002, 3001: { key: 'z', rev: 6002 } } })
    expect(await scriptsRunBy(changes)).toBeGreaterThanOrEqual(3)
    // A snapshot skips keys made since it opened, also in bounded steps.
    await f.storage.commit('v', [store(1, 'a', '1')])
    const snapshot = await f.storage.snapshot('v')
    await f.storage.commit('v', many.map((key, i) => store(i + 2, key, 'v')))
    let page: unknown
    const warmUp = async (): Promise<void> => {
      const other = await f.storage.snapshot('u')
      await other.next(1)
      await other.close()
    }
    expect(await scriptsRunBy(async () => { page = await snapshot.next(10) }, warmUp)).toBeGreaterThanOrEqual(3)
    expect(page).toEqual([{ key: 'a', rev: 1, value: '1' }])
    await snapshot.close()
  })
})

it('refuses an authorisation time that is not a number, before it reaches a script', async () => {
  await using f = await single()
  await expect(f.storage.commit('u', [store(1, 'k', '1')], 'c', { authorizedAt: Number.NaN })).rejects.toThrow(TypeError)
  expect(await f.storage.head('u')).toBe(0)
})

it('refuses a server-wide storage budget, which it cannot keep exactly across Redis nodes', () => {
  expect(() => createRedisStorage({ redis: 'redis://127.0.0.1:1', maxTotalBytes: 1000 } as RedisStorageOptions)).toThrow(/maxTotalBytes/)
})

describe('createRedisStorage on a Redis Cluster', () => {
  it('puts every key of a user in the slot of the user\'s tag, whatever braces the user id holds', async () => {
    await using f = await clustered()
    await Promise.all(TAGGY.map((u) => f.storage.commit(u, [store(1, 'k', '1'), { op: 'delete', mid: 2, key: '{x}' }], 'client{1}')))
    // Redis's own hashing, asked over the storage's connection: a redis-cli process per key took 20 s under load.
    const client = f.storage.redis as Cluster
    const slotOf = async (key: string): Promise<number> => Number(await client.cluster('KEYSLOT', key))
    for (const u of TAGGY) {
      const tag = userTag(u)
      expect(tag.slice(1, -1)).toMatch(/^[0-9a-f]+$/)
      const keys = await redisKeys(f, `${f.prefix}*${tag}:*`)
      expect(keys.length).toBeGreaterThanOrEqual(5)
      const slots = new Set(await Promise.all(keys.map(slotOf)))
      expect([...slots]).toEqual([await slotOf(tag.slice(1, -1))])
    }
    // A naive layout would hash '{a}' and 'a' by the same 'a'; their tags differ, and so (here) do their slots.
    expect(await slotOf(`x${userTag('{a}')}`)).not.toBe(await slotOf(`x${userTag('a')}`))
  })
})

describe('durability', () => {
  it('keeps every acknowledged write through a kill -9 of redis-server', async () => {
    await using server = await startRedis()
    const storage = createRedisStorage({ redis: { port: server.port, host: '127.0.0.1', maxRetriesPerRequest: null } })
    const acked = await Promise.all(Array.from({ length: 50 }, (_, i) => storage.commit(`u${i % 5}`, [store(1, `k${i}`, String(i))])))
    await server.kill9()
    await server.restart()
    for (let i = 0; i < 50; i++) expect(await storage.get(`u${i % 5}`, `k${i}`)).toEqual({ key: `k${i}`, rev: acked[i]!.head, value: String(i) })
    await storage.close()
  })

  it('warns about every setting that can lose an acknowledged write, and about none on a durable server', async () => {
    await using lax = await startRedis({ args: ['--appendonly', 'no', '--appendfsync', 'everysec', '--maxmemory-policy', 'allkeys-lru'] })
    const storage = createRedisStorage({ redis: lax.url })
    const warnings = await storage.checkDurability()
    expect(warnings).toHaveLength(3)
    expect(warnings.join('\n')).toMatch(/appendonly is no[^]*appendfsync is everysec[^]*maxmemory-policy is allkeys-lru/)
    await storage.close()
    await using f = await single()
    expect(await f.storage.checkDurability()).toEqual([])
    await using c = await clustered()
    expect(await c.storage.checkDurability()).toEqual([])
  })

  it('waits for replicas on the Cluster master that has the user', async () => {
    const storage = createRedisStorage({ redis: {}, cluster: servers.cluster.startupNodes, prefix: `w${++tests}:`, waitReplicas: 1, waitTimeoutMs: 50 })
    const tag = userTag('u{1}')
    const slot = Number(await servers.cluster.nodes[0]!.cli('CLUSTER', 'KEYSLOT', tag.slice(1, -1)))
    const owner = await ownerOf(slot)
    const waits = async (): Promise<number> => Number(/cmdstat_wait:calls=(\d+)/.exec(await owner.cli('INFO', 'commandstats'))?.[1] ?? 0)
    const before = await waits()
    await expect(storage.commit('u{1}', [store(1, 'k', '1')])).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('Only 0 of 1') })
    expect(await waits()).toBe(before + 1)
    await storage.close()
  })

  it('acknowledges a write only once waitReplicas replicas have it', async () => {
    await using master = await startRedis()
    const storage = createRedisStorage({ redis: master.url, waitReplicas: 1, waitTimeoutMs: 200 })
    // No replica: the write is applied on the master but not acknowledged; its retry is answered once.
    await expect(storage.commit('u', [store(1, 'k', '1')], 'c')).rejects.toMatchObject({ code: 'INTERNAL' })
    await using replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
    await expect.poll(async () => (await master.cli('INFO', 'replication')).match(/slave0:.*state=online/) !== null, { timeout: 15_000 }).toBe(true)
    await storage.close()
    // With a replica online, a WAIT long enough for a loaded machine acknowledges (200 ms proved flaky under load).
    const patient = createRedisStorage({ redis: master.url, waitReplicas: 1, waitTimeoutMs: 10_000 })
    expect(await patient.commit('u', [store(1, 'k', '1')], 'c')).toMatchObject({ results: [{ mid: 1, rev: 1 }], changes: [] })
    expect((await patient.commit('u', [store(2, 'k', '2')], 'c')).head).toBe(2)
    expect((await replica.cli('HGET', `cubby:${userTag('u')}:d`, 'k')).trim()).toBe('2:2')
    await patient.close()
  })
})

describe('connections', () => {
  it('reconnects after its connection is cut, and follows a forwarder to another redis-server', async () => {
    await using other = await startRedis()
    await using forwarder = await startTcpForwarder(servers.redis.port)
    const storage = createRedisStorage({ redis: { host: '127.0.0.1', port: forwarder.port }, prefix: `cut${++tests}:` })
    const cut = async (): Promise<void> => {
      const ready = once(storage.redis, 'ready')
      forwarder.cutAll()
      await ready
    }
    await storage.commit('u', [store(1, 'k', '1')], 'c')
    expect(forwarder.connections).toBe(1)
    await cut()
    expect((await storage.commit('u', [store(1, 'k', 'again'), store(2, 'j', '2')], 'c')).results).toEqual([{ mid: 1, rev: 1 }, { mid: 2, rev: 2 }])
    forwarder.retarget(other.port)
    await cut()
    expect((await storage.commit('u', [store(3, 'k', '3')], 'c')).head).toBe(1)
    expect((await other.cli('--scan', '--pattern', 'cut*')).split('\n').filter(Boolean).length).toBeGreaterThan(0)
    await storage.close()
  })

  it('fails, and does not send again, a commit that ran but whose answer a dropped connection lost', async () => {
    await using server = await startRedis({ args: ['--enable-debug-command', 'local'] })
    await using forwarder = await startTcpForwarder(server.port)
    const storage = createRedisStorage({ redis: { host: '127.0.0.1', port: forwarder.port } })
    await storage.commit('u', [store(1, 'k', '1')])
    // Redis sleeps with the commit read; the cut comes before it answers. Sent again, the commit would run twice.
    const sleeping = storage.redis.call('DEBUG', 'SLEEP', '1').catch(() => 'cut')
    const before = forwarder.bytesFromClients
    const committing = storage.commit('u', [store(1, 'k', 'x'.repeat(10_000))])
    await vi.waitFor(() => expect(forwarder.bytesFromClients).toBeGreaterThan(before + 10_000))
    forwarder.cutAll()
    await expect(committing).rejects.toThrow()
    expect(await sleeping).toBe('cut')
    await vi.waitFor(async () => expect(await storage.head('u')).toBe(2))
    expect((await storage.changesSince('u', 0, 10)).rev).toBe(2)
    await storage.close()
  })

  it('makes its clients fail, not resend, a command whose answer a dropped connection lost (it may have run)', async () => {
    await using f = await single()
    await using c = await clustered()
    expect((f.storage.redis as Redis).options.autoResendUnfulfilledCommands).toBe(false)
    expect((c.storage.redis as Cluster).options.redisOptions?.autoResendUnfulfilledCommands).toBe(false)
  })
})

it('refuses a prefix that would change the hash tag', () => {
  expect(() => createRedisStorage({ redis: 'redis://127.0.0.1:1', prefix: 'a{b}:' })).toThrow(TypeError)
})

import type { UserRecord } from '@cubby/server'
import { useSharedRedis } from '@cubby/test-utils'
import { Cluster, type Redis } from 'ioredis'
import { describe, expect, it, vi } from 'vitest'
import { createRedisStorage, type RedisStorage, type RedisStorageOptions } from './createRedisStorage.js'
import { dueKeyOf } from './redisKeys.js'
import { defineScripts } from './redisScripts.js'

const servers = useSharedRedis()

let tests = 0
type Connection = () => Pick<RedisStorageOptions, 'redis' | 'cluster'>
const single: Connection = () => ({ redis: servers.redis.url })
const clustered: Connection = () => ({ redis: {}, cluster: servers.cluster.startupNodes })

/** A storage on its own key prefix (or on `prefix`, to share one with another storage: a second node). */
async function open(connection: Connection, options: { prefix?: string; quota?: { maxBytes: number } } = {}): Promise<RedisStorage & AsyncDisposable> {
  const storage = createRedisStorage({ ...connection(), prefix: options.prefix ?? `e${++tests}:`, ...(options.quota && { quota: options.quota }) })
  await storage.open()
  return Object.assign(storage, { [Symbol.asyncDispose]: () => storage.close() })
}

/** Calls of every command so far, summed over the masters (INFO commandstats), EVALSHA of scripts included. */
async function commandCalls(client: Redis | Cluster): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  let calls = 0
  for (const node of nodes) for (const m of (await node.info('commandstats')).matchAll(/calls=(\d+)/g)) calls += Number(m[1])
  return calls
}

describe.each([['a single Redis', single], ['a Redis Cluster', clustered]] as const)('expiry on %s', (_name, connection) => {
  it('sweeps only what is due, as tombstones at new revisions, and frees the index', async () => {
    await using storage = await open(connection)
    const now = Date.now()
    await storage.commit('a', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: now - 10 }])
    await storage.commit('b', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: now + 60_000 }])
    expect(await storage.nextExpiry()).toBe(now - 10)
    expect(await storage.sweepExpired(now, 100)).toEqual([{ userId: 'a', changes: [{ rev: 2, key: 'k', deleted: true }] }])
    expect([await storage.head('a'), await storage.head('b')]).toEqual([2, 1])
    expect((await storage.changesSince('a', 1, 10)).changes).toEqual([{ rev: 2, key: 'k', deleted: true }])
    expect(await storage.nextExpiry()).toBe(now + 60_000)
    // Nothing due: nothing written, the head stays.
    expect(await storage.sweepExpired(now, 100)).toEqual([])
    expect(await storage.head('a')).toBe(2)
  })

  it('keeps a value re-stored without expiry before its moment, and clears the expiry of a deleted or cleared key', async () => {
    await using storage = await open(connection)
    const now = Date.now()
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: now + 50 }])
    await storage.commit('u', [{ op: 'store', mid: 2, key: 'k', value: '2' }])
    expect(await storage.sweepExpired(now + 100, 100)).toEqual([])
    expect(await storage.get('u', 'k')).toEqual({ key: 'k', rev: 2, value: '2' })
    await storage.commit('u', [
      { op: 'store', mid: 3, key: 'j', value: '3', expiresAt: now + 50 }, { op: 'store', mid: 4, key: 'd', value: '4', expiresAt: now + 50 },
      { op: 'delete', mid: 5, key: 'd' },
    ])
    await storage.commit('u', [{ op: 'clear', mid: 6 }])
    await storage.commit('u', [{ op: 'store', mid: 7, key: 'j', value: '7' }])
    expect(await storage.sweepExpired(now + 100, 100)).toEqual([])
    expect(await storage.get('u', 'j')).toEqual({ key: 'j', rev: 7, value: '7' })
    expect(await storage.head('u')).toBe(7)
    // The stale due entries went with the empty sweeps.
    expect(await storage.nextExpiry()).toBeUndefined()
  })

  it('sees an expired value as absent in a condition', async () => {
    await using storage = await open(connection)
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: Date.now() - 1 }])
    const absent = await storage.commit('u', [{ op: 'store', mid: 2, key: 'k', value: '2', if: { absent: true } }])
    expect(absent.results).toEqual([{ mid: 2, rev: 2 }])
    await storage.commit('u', [{ op: 'store', mid: 3, key: 'j', value: '1', expiresAt: Date.now() - 1 }])
    const stale = await storage.commit('u', [{ op: 'store', mid: 4, key: 'j', value: '2', if: { rev: 3 } }])
    expect(stale.results).toEqual([{ mid: 4, error: { code: 'CONFLICT', message: expect.any(String), rev: 0 } }])
  })

  it('frees the bytes of an expired value for the quota once swept', async () => {
    await using storage = await open(connection, { quota: { maxBytes: 300 } })
    const big = JSON.stringify('x'.repeat(120))
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'a', value: big, expiresAt: Date.now() - 1 }])
    const over = await storage.commit('u', [{ op: 'store', mid: 2, key: 'b', value: big }])
    expect(over.results[0]).toMatchObject({ error: { code: 'QUOTA_EXCEEDED' } })
    await storage.sweepExpired(Date.now(), 100)
    expect((await storage.users({ limit: 10 }))[0]).toMatchObject({ userId: 'u', keys: 0 })
    const after = await storage.commit('u', [{ op: 'store', mid: 3, key: 'b', value: big }])
    expect(after.results[0]).toEqual({ mid: 3, rev: 3 })
  })

  it('imports a value with its expiry, and one expired already as deleted', async () => {
    await using storage = await open(connection)
    const at = Date.now() + 60_000
    async function* records(): AsyncGenerator<UserRecord> {
      yield { type: 'user', v: 1, userId: 'u', head: 2, clearRev: 0 }
      yield { type: 'value', key: 'k', rev: 1, value: '1', expiresAt: at }
      yield { type: 'value', key: 'old', rev: 2, value: '2', expiresAt: Date.now() - 1 }
    }
    await storage.importUser('u', records())
    expect(await storage.list('u', { limit: 10 })).toEqual([{ key: 'k', rev: 1, value: '1', expiresAt: at }])
    expect((await storage.users({ limit: 10 }))[0]).toMatchObject({ keys: 1 })
    expect(await storage.nextExpiry()).toBe(at)
    expect(await storage.sweepExpired(at, 100)).toEqual([{ userId: 'u', changes: [{ rev: 3, key: 'k', deleted: true }] }])
  })

  it('carries an expiry through an account merge, and leaves an expired value behind', async () => {
    await using storage = await open(connection)
    const now = Date.now()
    await storage.commit('anon_a', [
      { op: 'store', mid: 1, key: 'draft', value: '"d"', expiresAt: now + 60_000 },
      { op: 'store', mid: 2, key: 'stale', value: '"s"', expiresAt: now - 1 },
    ])
    await storage.commit('acct', [{ op: 'store', mid: 1, key: 'cached', value: '"old"', expiresAt: now + 30_000 }])
    await storage.commit('anon_a', [{ op: 'store', mid: 3, key: 'cached', value: '"new"' }])
    const merged = await storage.mergeUser('anon_a', 'acct', { prefer: 'anonymous' })
    expect(merged.changes.map((c) => ('key' in c ? c.key : ''))).toEqual(['cached', 'draft'])
    expect(await storage.get('acct', 'stale')).toBeUndefined()
    expect(await storage.get('acct', 'draft')).toMatchObject({ value: '"d"', expiresAt: now + 60_000 })
    expect(await storage.get('acct', 'cached')).toEqual({ key: 'cached', rev: expect.any(Number), value: '"new"' })
    const swept = await storage.sweepExpired(now + 60_000, 100)
    expect(swept).toEqual([{ userId: 'acct', changes: [{ rev: expect.any(Number), key: 'draft', deleted: true }] }])
    expect(await storage.get('acct', 'cached')).toMatchObject({ value: '"new"' })
  })

  it('deletes a value once when two nodes sweep at the same time', async () => {
    await using a = await open(connection)
    await using b = await open(connection, { prefix: `e${tests}:` })
    const now = Date.now()
    const users = Array.from({ length: 20 }, (_, i) => `user${i}`)
    for (const userId of users) await a.commit(userId, [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: now - 5 }])
    const [fromA, fromB] = await Promise.all([a.sweepExpired(now, 500), b.sweepExpired(now, 500)])
    const all = [...fromA, ...fromB]
    // Every user's value is deleted by one of the nodes, at one new revision.
    expect(all.map((s) => s.userId).sort()).toEqual([...users].sort())
    expect(all.every((s) => s.changes.length === 1 && s.changes[0]!.rev === 2)).toBe(true)
    for (const userId of users) expect(await a.head(userId)).toBe(2)
    expect(await a.nextExpiry()).toBeUndefined()
  })

  it('sends a constant number of commands per sweep step, whatever the number of keys waiting', async () => {
    await using storage = await open(connection)
    const far = Date.now() + 3_600_000
    const step = async (): Promise<number> => {
      const before = await commandCalls(storage.redis)
      await storage.sweepExpired(Date.now(), 500)
      await storage.nextExpiry()
      return await commandCalls(storage.redis) - before
    }
    await storage.commit('few', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: far }])
    const withOne = await step()
    // 10,000 keys of 100 users wait with a far expiry.
    for (let u = 0; u < 100; u++) {
      const mutations = Array.from({ length: 100 }, (_, i) => ({ op: 'store' as const, mid: i + 1, key: `k${i}`, value: '1', expiresAt: far + i }))
      await storage.commit(`many${u}`, mutations)
    }
    const withMany = await step()
    // One command per due bucket (8) in each of the two calls, plus the count's own INFO on each master (and room
    // for one slot refresh of the Cluster client): the same with one key waiting or 10,000.
    const bound = 2 * 8 + (storage.redis instanceof Cluster ? 3 + 1 : 1)
    expect(withOne).toBeGreaterThanOrEqual(16)
    expect(withMany).toBeLessThanOrEqual(bound)
  })
})

describe('expiry on a Redis Cluster', () => {
  it('expires the keys of users on every shard', async () => {
    const prefix = `shards${++tests}:`
    await using storage = await open(clustered, { prefix })
    const users = Array.from({ length: 30 }, (_, i) => `shard-user-${i}`)
    const now = Date.now()
    for (const userId of users) await storage.commit(userId, [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: now - 1 }])
    const masters = (storage.redis as Cluster).nodes('master')
    // The users sit on every master.
    const metas = await Promise.all(masters.map((n) => n.keys(`${prefix}*:m`)))
    expect(metas.map((keys) => keys.length > 0)).toEqual([true, true, true])
    const swept = new Set<string>()
    for (let i = 0; i < 5 && swept.size < users.length; i++) for (const s of await storage.sweepExpired(Date.now(), 500)) swept.add(s.userId)
    expect([...swept].sort()).toEqual([...users].sort())
    // Every user's index is gone with its last entry, and no due entry is left.
    const indexes = await Promise.all(masters.map((n) => n.keys(`${prefix}*:e`)))
    expect(indexes.flat().filter((key) => !key.includes('{due-'))).toEqual([])
    expect(await storage.nextExpiry()).toBeUndefined()
  })
})

describe('expiry on Redis after a crash between two commands', () => {
  it('sweeps a user whose sweep was claimed by a node that died, once the claim\'s lease ends', async () => {
    await using storage = await open(single)
    const prefix = `e${tests}:`
    const past = Date.now() - 1
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: past }])
    // A node claims the user (its entry becomes a lease) and dies before the sweep script.
    const bucket = dueKeyOf(prefix, 'u')
    const leaseEnd = Date.now() + 200
    expect(await defineScripts(storage.redis).cubbyDueClaim(bucket, 'uu', past, 'u', leaseEnd)).toBe(1)
    expect(await storage.sweepExpired(Date.now(), 100)).toEqual([])
    await vi.waitFor(async () => {
      expect(await storage.sweepExpired(Date.now(), 100)).toEqual([{ userId: 'u', changes: [{ rev: 2, key: 'k', deleted: true }] }])
    }, { timeout: 5000, interval: 50 })
    expect(await storage.redis.zrange(bucket, 0, -1)).toEqual([])
  })

  it('finds a user again at their next commit when a node died between the commit script and its due entry', async () => {
    await using storage = await open(single)
    const prefix = `e${tests}:`
    const soon = Date.now() + 100
    await storage.commit('u', [{ op: 'store', mid: 1, key: 'k', value: '1', expiresAt: soon }])
    // The due entry is lost, as if the node died before its ZADD.
    await storage.redis.zrem(dueKeyOf(prefix, 'u'), 'uu')
    expect(await storage.nextExpiry()).toBeUndefined()
    // Any later commit of the user, with or without an expiry, puts the user's earliest back.
    await storage.commit('u', [{ op: 'store', mid: 2, key: 'other', value: '2' }])
    expect(await storage.nextExpiry()).toBe(soon)
    await vi.waitFor(async () => {
      expect(await storage.sweepExpired(Date.now(), 100)).toEqual([{ userId: 'u', changes: [{ rev: 3, key: 'k', deleted: true }] }])
    }, { timeout: 5000, interval: 50 })
  })
})

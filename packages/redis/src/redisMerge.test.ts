import type { Mutation } from '@cubby/protocol'
import { useSharedRedis } from '@cubby/test-utils'
import type { Cluster } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { createRedisStorage, type RedisStorage } from './createRedisStorage.js'
import { detachKeys } from './redisMerge.js'
import { defineMergeScripts } from './redisMergeScripts.js'
import { mergeKeys, pendingMergesKey, userKeys, userTag } from './redisKeys.js'

const servers = useSharedRedis()

const store = (mid: number, key: string, value: string): Mutation => ({ op: 'store', mid, key, value })
let tests = 0

async function open(prefix: string): Promise<RedisStorage> {
  const storage = createRedisStorage({ redis: {}, cluster: servers.cluster.startupNodes, prefix })
  await storage.open()
  return storage
}

/** Every key of a prefix on every master. */
async function keysOf(storage: RedisStorage, prefix: string): Promise<string[]> {
  const client = storage.redis as Cluster
  return (await Promise.all(client.nodes('master').map((n) => n.keys(`${prefix}*`)))).flat().sort()
}

/**
 * Runs the merge's first step (and, with `apply`, its second) by hand, as a node that crashed right after it would have.
 * With `prefer: 'anonymous'`, so that applying the records twice would show (a second rev for the same key).
 */
async function cutOff(storage: RedisStorage, prefix: string, { apply }: { apply: boolean }): Promise<void> {
  const scripts = defineMergeScripts(storage.redis)
  await storage.redis.sadd(pendingMergesKey(prefix), 'anon_a')
  await scripts.cubbyMergeDetach(...detachKeys(prefix, 'anon_a'), Date.now(), '', 'acct', 'anonymous', 'm1')
  if (!apply) return
  const k = userKeys(prefix, 'acct')
  await scripts.cubbyMergeApply(
    k.meta, k.data, k.keys, k.log, k.clients, k.snapshots, k.deleted, mergeKeys(prefix, 'acct').journal, k.expiry,
    100, 1_000_000, 64, 'anonymous', '', 1, 'anon_a', 'm1', 1, Date.now(), 'a', '1', '', 'phone', '1',
  )
}

describe('the Redis account merge across Cluster slots', () => {
  it('puts the two users in different slots', () => {
    // The scheme is only worth testing here if one script could not have done it.
    expect(userTag('anon_a')).not.toBe(userTag('acct'))
  })

  it('finishes a merge cut off after its first step when a storage opens', async () => {
    const prefix = `m${++tests}:`
    const first = await open(prefix)
    await first.commit('anon_a', [store(1, 'a', '1')], 'phone')
    await first.commit('acct', [store(1, 'mine', '2')])
    await cutOff(first, prefix, { apply: false })
    // Cut off: the anonymous user reads as deleted, the account has nothing yet.
    expect(await first.list('anon_a', { limit: 10 })).toEqual([])
    expect(await first.get('acct', 'a')).toBeUndefined()
    await first.close()
    const storage = await open(prefix)
    expect((await storage.list('acct', { limit: 10 })).map((e) => [e.key, e.value])).toEqual([['a', '1'], ['mine', '2']])
    expect((await storage.commit('acct', [store(1, 'a', 'again')], 'phone')).changes).toEqual([])
    expect(await storage.deletedAt('anon_a')).toEqual(expect.any(Number))
    expect((await keysOf(storage, prefix)).filter((key) => /:g[mdklc]$|merges$/.test(key))).toEqual([])
    await storage.close()
  })

  it('finishes a merge cut off after its second step without applying it twice', async () => {
    const prefix = `m${++tests}:`
    const first = await open(prefix)
    await first.commit('anon_a', [store(1, 'a', '1')], 'phone')
    await cutOff(first, prefix, { apply: true })
    expect(await first.head('acct')).toBe(1)
    await first.close()
    const storage = await open(prefix)
    expect(await storage.head('acct')).toBe(1)
    expect((await storage.list('acct', { limit: 10 })).map((e) => e.key)).toEqual(['a'])
    expect((await keysOf(storage, prefix)).filter((key) => /:g[mdklc]$|:j$|merges$/.test(key))).toEqual([])
    await storage.close()
  })

  it('finishes a cut-off merge before merging the user again', async () => {
    const prefix = `m${++tests}:`
    const storage = await open(prefix)
    await storage.commit('anon_a', [store(1, 'a', '1')], 'phone')
    await cutOff(storage, prefix, { apply: false })
    const r = await storage.mergeUser('anon_a', 'acct', { prefer: 'account' })
    expect(r.head).toBe(1)
    expect((await storage.list('acct', { limit: 10 })).map((e) => e.key)).toEqual(['a'])
    await storage.close()
  })

  it('leaves an open snapshot of the anonymous user readable, and merges the records it was taken on', async () => {
    const prefix = `m${++tests}:`
    const storage = await open(prefix)
    await storage.commit('anon_a', [store(1, 'a', '1'), store(2, 'b', '2')])
    const snapshot = await storage.snapshot('anon_a')
    await storage.mergeUser('anon_a', 'acct', { prefer: 'account' })
    expect((await snapshot.next(10)).map((c) => 'key' in c && c.key)).toEqual(['a', 'b'])
    await snapshot.close()
    expect((await storage.list('acct', { limit: 10 })).map((e) => e.key)).toEqual(['a', 'b'])
    await storage.close()
  })
})

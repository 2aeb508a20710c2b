import { randomUUID } from 'node:crypto'
import { CubbyError, compareKeys, isExpired, type Change, type MergePreference } from '@cubby/protocol'
import { RECORD_OVERHEAD_BYTES, type MergeUserOptions, type MergeUserResult, type UserQuota } from '@cubby/server'
import type { Cluster, Redis } from 'ioredis'
import { dueKeyOf, mergeKeys, parseRecord, pendingMergesKey, userKeys } from './redisKeys.js'
import type { MergeScripts } from './redisMergeScripts.js'

/** What {@link mergeUser} works with. @internal */
export interface RedisMergeContext {
  redis: Redis | Cluster
  scripts: MergeScripts
  prefix: string
  quota: UserQuota
  /** Runs a step of a user after their earlier writes (the storage's per-user chain). */
  write: <T>(userId: string, task: () => Promise<T>) => Promise<T>
}

const nowInSeconds = (): number => Math.floor(Date.now() / 1000)

/** The keys DETACH and RESTORE take, in order. @internal */
export function detachKeys(prefix: string, userId: string): string[] {
  const k = userKeys(prefix, userId)
  const g = mergeKeys(prefix, userId)
  return [
    k.meta, k.data, k.keys, k.log, k.clients, k.deleted, k.snapshots, g.stagedMeta, g.stagedData, g.stagedKeys, g.stagedLog, g.stagedClients,
    k.expiry, g.stagedExpiry,
  ]
}

/** A staged value: key, encoded value, expiresAt ('' for never). */
type StagedValue = [string, string, number | '']

/**
 * The staged live values (in key order) and exactly-once records of an anonymous user. A value expired at `now` is
 * gone already (reads hide it before the sweep): it is not carried.
 */
async function readStaged(redis: Redis | Cluster, prefix: string, from: string, now: number): Promise<{ values: StagedValue[]; clients: Array<[string, string]> }> {
  const g = mergeKeys(prefix, from)
  const [records, clients, clearRev] = await Promise.all([redis.hgetall(g.stagedData), redis.hgetall(g.stagedClients), redis.hget(g.stagedMeta, 'r')])
  const values: StagedValue[] = []
  for (const [key, raw] of Object.entries(records)) {
    const record = parseRecord(raw)
    if (record?.value === undefined || record.rev <= Number(clearRev ?? 0) || isExpired(record.expiresAt, now)) continue
    values.push([key, record.value, record.expiresAt ?? ''])
  }
  values.sort(([a], [b]) => compareKeys(a, b))
  return { values, clients: Object.entries(clients).map(([id, raw]) => [id, raw.split(' ')[0]!]) }
}

/**
 * Merges `from` into `into` on Redis (see `CubbyStorage.mergeUser`). The users sit in two hash slots, so on a Cluster
 * no one script can change both; the merge is a two-phase scheme of single-slot scripts instead, each atomic:
 * 1. DETACH (the anonymous user's slot): their keys move aside under staging keys (RENAME) and they are marked
 *    deleted, so nothing of theirs changes any more and the user reads as deleted everywhere;
 * 2. APPLY (the account's slot): the staged records go in with the quota checked on the result, all or nothing,
 *    and the merge's id goes into the account's journal;
 * 3. DROP (the anonymous user's slot): the staging keys go. After a refusal in 2, RESTORE moves them back instead.
 * A crash between the steps leaves the anonymous user deleted and their records staged: the next merge of that user,
 * or the next `open()` of any node (the staged user is listed in a pending set), finishes it; the journal keeps step
 * 2 from applying twice. The staged records are read into memory: at most the anonymous user's quota.
 * @internal
 */
export async function mergeUser(ctx: RedisMergeContext, from: string, into: string, options: MergeUserOptions): Promise<MergeUserResult> {
  const { redis, scripts, prefix } = ctx
  const id = randomUUID()
  // Queued at once on the user's chain, so that the merge keeps its place among the user's calls.
  const detached = await ctx.write(from, async () => {
    await redis.sadd(pendingMergesKey(prefix), from)
    return await scripts.cubbyMergeDetach(
      ...detachKeys(prefix, from), Date.now(), options.authorizedAt ?? '', into, options.prefer, id,
    ) as [number, string?, string?, string?]
  })
  if (detached[0] === -1) throw new CubbyError('UNAUTHORIZED', 'A user of the merge was deleted; sign in again')
  const [state, stagedInto, stagedPrefer, stagedId] = detached as [number, string, MergePreference, string]
  if (state === 1) {
    // An earlier merge of this user was cut off (a crash): finish it first, then merge what the user has now.
    await finishMerge(ctx, from, stagedInto, stagedPrefer, stagedId, undefined)
    return mergeUser(ctx, from, into, options)
  }
  return finishMerge(ctx, from, into, options.prefer, id, options.authorizedAt)
}

/** Steps 2 and 3 of a staged merge. */
async function finishMerge(
  ctx: RedisMergeContext, from: string, into: string, prefer: MergePreference, id: string, authorizedAt: number | undefined,
): Promise<MergeUserResult> {
  const { redis, scripts, prefix, quota } = ctx
  const now = Date.now()
  const { values, clients } = await readStaged(redis, prefix, from, now)
  const k = userKeys(prefix, into)
  const reply = await ctx.write(into, async () => {
    const applied = await scripts.cubbyMergeApply(
      k.meta, k.data, k.keys, k.log, k.clients, k.snapshots, k.deleted, mergeKeys(prefix, into).journal, k.expiry,
      quota.maxKeys, quota.maxBytes, RECORD_OVERHEAD_BYTES, prefer, authorizedAt ?? '', nowInSeconds(), from, id, values.length, now,
      ...values.flat(), ...clients.flat(),
    ) as number[]
    // The account's earliest expiry into the due-users set, after the script (see redisExpiry.ts).
    if (applied[0]! >= 0 && Number(applied[3]) > 0) await redis.zadd(dueKeyOf(prefix, into), 'LT', Number(applied[3]), `u${into}`)
    return applied
  })
  const [status] = reply
  if (status === -1 || status === -3 || status === -4) {
    const restored = await ctx.write(from, async () => await scripts.cubbyMergeRestore(...detachKeys(prefix, from), id, nowInSeconds()))
    if (restored !== -1) await redis.srem(pendingMergesKey(prefix), from)
    if (status === -1) throw new CubbyError('UNAUTHORIZED', 'A user of the merge was deleted; sign in again')
    throw new CubbyError('QUOTA_EXCEEDED', `The merged account would pass its quota (${quota.maxKeys} keys, ${quota.maxBytes} bytes); nothing was merged`)
  }
  const g = mergeKeys(prefix, from)
  await ctx.write(from, () => scripts.cubbyMergeDrop(g.stagedMeta, g.stagedData, g.stagedKeys, g.stagedLog, g.stagedClients, g.stagedExpiry, id))
  await redis.hdel(mergeKeys(prefix, into).journal, from)
  await redis.srem(pendingMergesKey(prefix), from)
  if (status === -2) return { changes: [], head: Number(reply[1]), conflicts: [], clients: 0 }
  return resultOf(reply, values)
}

function resultOf(reply: number[], values: StagedValue[]): MergeUserResult {
  const [head, clients, before] = reply as [number, number, number]
  const changes: Change[] = []
  const conflicts: string[] = []
  let rev = Number(before)
  values.forEach(([key, value, expiresAt], i) => {
    const kind = Number(reply[4 + i])
    if (kind !== 1) conflicts.push(key)
    if (kind !== 2) changes.push(expiresAt === '' ? { rev: ++rev, key, value } : { rev: ++rev, key, value, expiresAt })
  })
  return { changes, head: Number(head), conflicts, clients: Number(clients) }
}

/** Finishes every merge a crash left staged (see {@link mergeUser}). @internal */
export async function resumeMerges(ctx: RedisMergeContext): Promise<void> {
  const { redis, prefix } = ctx
  for (const from of await redis.smembers(pendingMergesKey(prefix))) {
    const [into, prefer, id] = await redis.hmget(mergeKeys(prefix, from).stagedMeta, 'into', 'prefer', 'id')
    if (into == null || prefer == null || id == null) await redis.srem(pendingMergesKey(prefix), from)
    else await finishMerge(ctx, from, into, prefer as MergePreference, id, undefined)
  }
}

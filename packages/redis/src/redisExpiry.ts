import type { Change } from '@cubby/protocol'
import type { ExpiredChanges } from '@cubby/server'
import type { Cluster, Redis } from 'ioredis'
import { DUE_BUCKETS, dueKey, dueKeyOf, userKeys } from './redisKeys.js'
import type { CubbyScripts } from './redisScripts.js'

/**
 * How long a claimed sweep of a user holds the user's due entry (its "l" lease). A node that dies in the middle of
 * a sweep leaves the lease behind: at its end the user is due again, and any node sweeps it.
 */
const SWEEP_LEASE_MS = 60_000

/** What {@link sweepRedisExpired} works with. @internal */
export interface RedisExpiryContext {
  redis: Redis | Cluster
  scripts: CubbyScripts
  prefix: string
  /** Runs a step of a user after their earlier writes (the storage's per-user chain). */
  write: <T>(userId: string, task: () => Promise<T>) => Promise<T>
}

/** A due entry: the bucket key, the member ("u<user>" or "l<user>") and the score read. */
interface DueEntry {
  bucket: string
  member: string
  score: number
}

/**
 * The earliest score over the due-users buckets (one ZRANGE of one entry per bucket, whatever the number of
 * expiring keys), or `undefined` when every bucket is empty. @internal
 */
export async function nextRedisExpiry(redis: Redis | Cluster, prefix: string): Promise<number | undefined> {
  const heads = await Promise.all(Array.from({ length: DUE_BUCKETS }, (_, b) => redis.zrange(dueKey(prefix, b), 0, 0, 'WITHSCORES')))
  const scores = heads.flatMap((head) => (head[1] === undefined ? [] : [Number(head[1])]))
  return scores.length === 0 ? undefined : Math.min(...scores)
}

/**
 * Sweeps the Redis expiry indexes. Each user with expiring values has an index in their own slot (`{user}:e`) that
 * the commit script keeps exact, and an entry in one of {@link DUE_BUCKETS} due-users sets at or below their
 * earliest expiry. A sweep reads the due entries (at most `limit`), and for each user, on the user's chain:
 * 1. claims the entry (DUE_CLAIM: compare its score and swap it for a lease), so that of two nodes one sweeps;
 * 2. runs SWEEP on the user's slot: each value still expired becomes a tombstone at a new rev, atomically with
 *    the user's commits, so a value re-stored since is kept and nothing is deleted twice;
 * 3. drops the lease and puts back the user's earliest expiry left (DUE_RELEASE, `ZADD LT`).
 * A commit adds its user's earliest expiry with `ZADD LT` after its script: a commit after step 2 puts its entry
 * back whatever step 3 does, one before it is in step 2's answer. A node that dies after 1 leaves the lease, which
 * comes due; one that dies between a commit's script and its `ZADD` loses the entry until the user's next commit.
 * @internal
 */
export async function sweepRedisExpired(ctx: RedisExpiryContext, now: number, limit: number): Promise<ExpiredChanges[]> {
  const users = await dueUsers(ctx, now, limit)
  if (users.size === 0) return []
  // Each user's sweep reads its share of `limit`; one with more due is due again at once and swept next step.
  const share = Math.max(1, Math.floor(limit / users.size))
  const swept = await Promise.all([...users].map(([userId, entry]) => ctx.write(userId, () => sweepUser(ctx, userId, entry, now, share))))
  return swept.filter((s) => s.changes.length > 0)
}

/** The due entries of every bucket at `now`, at most `limit`, earliest first, one per user. */
async function dueUsers({ redis, prefix }: RedisExpiryContext, now: number, limit: number): Promise<Map<string, DueEntry>> {
  const buckets = Array.from({ length: DUE_BUCKETS }, (_, b) => dueKey(prefix, b))
  const pages = await Promise.all(buckets.map((bucket) => redis.zrange(bucket, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')))
  const entries: DueEntry[] = []
  pages.forEach((page, b) => {
    for (let i = 0; i + 1 < page.length; i += 2) entries.push({ bucket: buckets[b]!, member: page[i]!, score: Number(page[i + 1]) })
  })
  entries.sort((x, y) => x.score - y.score)
  const users = new Map<string, DueEntry>()
  for (const entry of entries.slice(0, limit)) if (!users.has(entry.member.slice(1))) users.set(entry.member.slice(1), entry)
  return users
}

async function sweepUser(ctx: RedisExpiryContext, userId: string, entry: DueEntry, now: number, limit: number): Promise<ExpiredChanges> {
  const { scripts, prefix } = ctx
  const bucket = dueKeyOf(prefix, userId)
  if (await scripts.cubbyDueClaim(entry.bucket, entry.member, entry.score, userId, Date.now() + SWEEP_LEASE_MS) !== 1) return { userId, changes: [] }
  const k = userKeys(prefix, userId)
  const [, earliest, ...flat] = await scripts.cubbySweep(k.meta, k.data, k.keys, k.log, k.snapshots, k.expiry, now, limit) as Array<string | number>
  await scripts.cubbyDueRelease(bucket, userId, Number(earliest))
  const changes: Change[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) changes.push({ rev: Number(flat[i + 1]), key: String(flat[i]), deleted: true })
  return { userId, changes }
}

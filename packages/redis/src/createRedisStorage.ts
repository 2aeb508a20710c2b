import { CubbyError, compareKeys, isExpired, type Change, type Mutation, type MutationResult, type WireError } from '@cubby/protocol'
import { CATCH_UP_PAGE_BYTES, checkCommitArguments, RECORD_OVERHEAD_BYTES, resolveQuota } from '@cubby/server'
import type {
  CommitOptions, CommitResult, CubbyStorage, DeviceRegistry, ExpiredChanges, ImportResult, MergeUserOptions, MergeUserResult, StorageListOptions, StorageSnapshot, StoredEntry, UserQuota, UserRecord, UserSummary,
} from '@cubby/server'
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis'
import type { Registry } from 'prom-client'
import { checkDurability } from './checkDurability.js'
import { CLOSE_WAIT_MS, closeRedis, settledWithin } from './closeRedis.js'
import { createRedisDevices } from './createRedisDevices.js'
import { checkPrefix, dueKeyOf, parseDeletion, parseRecord, userKeys } from './redisKeys.js'
import { nextRedisExpiry, sweepRedisExpired } from './redisExpiry.js'
import { defineScripts, SCAN_STEP, type CubbyScripts } from './redisScripts.js'
import { mergeUser, resumeMerges, type RedisMergeContext } from './redisMerge.js'
import { defineMergeScripts } from './redisMergeScripts.js'
import { redisCounters, countRedis } from './redisMetrics.js'
import { openSnapshot, type RedisSnapshot } from './redisSnapshot.js'
import { exportUser, importUser, listUsers, usersUnusedSince, waitForLazyFree } from './redisUserAdmin.js'

/** Options of {@link createRedisStorage}. */
export interface RedisStorageOptions {
  /**
   * The Redis to use: a client you own (`new Redis(...)` or `new Cluster(...)`; `close()` leaves it open; give it
   * `autoResendUnfulfilledCommands: false`), or options or a `redis://` URL for a client the storage makes and closes.
   */
  redis: Redis | Cluster | RedisOptions | string
  /** Startup nodes of a Redis Cluster; with them, `redis` (options only) applies to each node's connection. */
  cluster?: ClusterNode[]
  /** Prefix of every key the storage writes; no `{` or `}`. @default 'cubby:' */
  prefix?: string
  /** Per-user quota; a store or delete that would pass it gets a `QUOTA_EXCEEDED` result and writes nothing. @default DEFAULT_QUOTA */
  quota?: Partial<UserQuota>
  /**
   * Replicas that must have a write before it is acknowledged (Redis `WAIT`); a write that fewer replicas confirm
   * within {@link waitTimeoutMs} rejects with `INTERNAL` (it is applied on the master; a retry with the same
   * mid is answered once). 0 waits for none. @default 0
   */
  waitReplicas?: number
  /** How long `WAIT` waits for {@link waitReplicas}. @default 1000 */
  waitTimeoutMs?: number
  /**
   * Not supported: a server-wide budget must be kept exactly, and on a Cluster a global counter is a key in
   * another slot than the user's, which one commit script cannot update with the user's records. Passing it throws.
   */
  maxTotalBytes?: never
  /**
   * Where the errors of a client the storage makes go (a Redis that went away, a reconnect that failed); they are
   * never thrown: the commands of that time fail on their own. Reporting them through `createRedisErrorLog`
   * keeps the log short. A client you pass in is yours to listen to. @default ignore
   */
  onError?: (error: unknown) => void
}

/** A {@link CubbyStorage} on Redis, with a check of the Redis settings that durability needs. */
export interface RedisStorage extends CubbyStorage {
  /**
   * Asks every master (CONFIG GET) whether an acknowledged write survives a crash: `appendonly yes` and
   * `appendfsync always`. Call it at start and log what it returns.
   * @returns one warning per setting that can lose an acknowledged write, or that could not be read; none when durable.
   */
  checkDurability(): Promise<string[]>
  /** Deletes values expired at `now` (see `CubbyStorage.sweepExpired`; the Redis layout is in redisExpiry.ts). */
  sweepExpired(now: number, limit: number): Promise<ExpiredChanges[]>
  /** The earliest score of the due-users sets (see `CubbyStorage.nextExpiry`). */
  nextExpiry(): Promise<number | undefined>
  /** The client the storage uses. */
  readonly redis: Redis | Cluster
}

/**
 * Creates a {@link CubbyStorage} on a single `redis-server` or a Redis Cluster. Each user's data sits under one
 * hash tag, and each commit, clear, import step and deletion is one Lua script on that user's shard, so it
 * applies whole or not at all. Durable only with `appendonly yes` and `appendfsync always` (see `checkDurability`).
 *
 * @throws TypeError for a prefix with `{` or `}`, a quota field that is not a positive integer, or `maxTotalBytes`.
 * @example
 * ```ts
 * const storage = createRedisStorage({ redis: 'redis://127.0.0.1:6379' })
 * for (const warning of await storage.checkDurability()) console.warn(warning)
 * const server = createCubbyServer({ storage, ... })
 * ```
 */
export function createRedisStorage(options: RedisStorageOptions): RedisStorage {
  const { prefix = 'cubby:', waitReplicas = 0, waitTimeoutMs = 1000 } = options
  checkPrefix(prefix)
  if (options.maxTotalBytes !== undefined) {
    throw new TypeError('maxTotalBytes: the Redis storage has no server-wide storage budget (it cannot keep one exactly across Cluster slots)')
  }
  for (const [name, value] of Object.entries({ waitReplicas, waitTimeoutMs })) {
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer`)
  }
  const owned = !(options.redis instanceof Redis || options.redis instanceof Cluster)
  const redis = connect(options)
  // Without a listener, ioredis prints "Unhandled error event" with a stack for every failed reconnect.
  if (owned) redis.on('error', options.onError ?? (() => {}))
  return new RedisStorageImpl(redis, owned, { prefix, quota: resolveQuota(options.quota), waitReplicas, waitTimeoutMs })
}

/**
 * A command whose connection dropped before its answer may have run: ioredis would send it again after
 * reconnecting, and a commit sent again can overwrite a newer write made meanwhile (by another server). So it
 * fails instead, and the client's retry goes through the exactly-once record.
 */
const NO_RESEND = { autoResendUnfulfilledCommands: false } as const

function connect({ redis, cluster }: RedisStorageOptions): Redis | Cluster {
  if (redis instanceof Redis || redis instanceof Cluster) return redis
  // ioredis's own option types fail under exactOptionalPropertyTypes (an optional field typed without undefined).
  if (cluster !== undefined) return new Cluster(cluster, { redisOptions: { ...(typeof redis === 'string' ? {} : redis), ...NO_RESEND } as never })
  return typeof redis === 'string' ? new Redis(redis, NO_RESEND) : new Redis({ ...redis, ...NO_RESEND } as never)
}

interface Settings {
  prefix: string
  quota: UserQuota
  waitReplicas: number
  waitTimeoutMs: number
}

const OPS = { store: 's', delete: 'd', clear: 'c' } as const

class RedisStorageImpl implements RedisStorage {
  readonly redis: Redis | Cluster
  readonly devices: DeviceRegistry
  readonly #scripts: CubbyScripts
  readonly #owned: boolean
  readonly #settings: Settings
  /** Per user, the end of the chain of their writes: one user's scripts run in call order, one at a time. */
  readonly #tails = new Map<string, Promise<unknown>>()
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #merges: RedisMergeContext
  #resumed: Promise<void> | undefined
  #closed = false

  constructor(redis: Redis | Cluster, owned: boolean, settings: Settings) {
    this.redis = redis
    this.#scripts = defineScripts(redis)
    this.devices = createRedisDevices(redis, settings.prefix)
    this.#owned = owned
    this.#settings = settings
    const write = <T>(userId: string, task: () => Promise<T>): Promise<T> => this.#write(userId, task)
    this.#merges = { redis, scripts: defineMergeScripts(redis), prefix: settings.prefix, quota: settings.quota, write }
  }

  async open(): Promise<void> {
    await this.redis.ping()
    // Merges a crash cut off between their steps are finished once per storage (see redisMerge.ts).
    this.#resumed ??= resumeMerges(this.#merges).catch((error: unknown) => {
      this.#resumed = undefined
      throw error
    })
    await this.#resumed
  }

  mergeUser(from: string, into: string, options: MergeUserOptions): Promise<MergeUserResult> {
    return mergeUser(this.#merges, from, into, options)
  }

  registerMetrics(registry: Registry): void {
    countRedis(this.redis, 'storage', redisCounters(registry))
  }

  async close(): Promise<void> {
    this.#closed = true
    // Commands in flight are answered first, unless Redis is down: then they fail when the connection drops.
    await settledWithin(Promise.allSettled([...this.#inFlight]), CLOSE_WAIT_MS)
    if (this.#owned) await closeRedis(this.redis)
  }

  async checkDurability(): Promise<string[]> {
    await this.open()
    return checkDurability(this.redis)
  }

  commit(userId: string, mutations: Mutation[], clientId?: string, options: CommitOptions = {}): Promise<CommitResult> {
    try {
      checkCommitArguments(userId, mutations, clientId)
      if (options.authorizedAt !== undefined && !Number.isFinite(options.authorizedAt)) throw new TypeError('commit: authorizedAt must be a finite number')
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#write(userId, async () => {
      const k = userKeys(this.#settings.prefix, userId)
      const { maxKeys, maxBytes } = this.#settings.quota
      const args = mutations.flatMap((m) => [
        OPS[m.op], m.mid, m.op === 'clear' ? '' : m.key, m.op === 'store' ? m.value : '', conditionArg(m), m.op === 'store' ? m.expiresAt ?? '' : '',
      ])
      const { authorizedAt } = options
      const reply = await this.#scripts.cubbyCommit(
        k.meta, k.data, k.keys, k.log, k.clients, k.snapshots, k.deleted, k.expiry,
        maxKeys, maxBytes, RECORD_OVERHEAD_BYTES, clientId ?? '', authorizedAt === undefined ? '' : authorizedAt, nowInSeconds(), options.atomic === true ? '1' : '',
        Date.now(), ...args,
      ) as number[]
      // After the script, so that a sweep of the user that ran before it finds this entry (see redisExpiry.ts).
      await this.#noteExpiry(userId, Number(reply[1 + 2 * mutations.length]))
      return commitResult(mutations, reply, this.#settings.quota)
    })
  }

  async get(userId: string, key: string): Promise<StoredEntry | undefined> {
    const record = parseRecord(await this.redis.hget(userKeys(this.#settings.prefix, userId).data, key))
    if (record?.value === undefined || isExpired(record.expiresAt, Date.now())) return undefined
    const { rev, value, expiresAt } = record
    return expiresAt === undefined ? { key, rev, value } : { key, rev, value, expiresAt }
  }

  sweepExpired(now: number, limit: number): Promise<ExpiredChanges[]> {
    if (this.#closed) return Promise.reject(new CubbyError('CLOSED', 'The storage is closed'))
    return sweepRedisExpired({ redis: this.redis, scripts: this.#scripts, prefix: this.#settings.prefix, write: (userId, task) => this.#write(userId, task) }, now, limit)
  }

  nextExpiry(): Promise<number | undefined> {
    return nextRedisExpiry(this.redis, this.#settings.prefix)
  }

  /** Puts the user in the due-users set at `earliest` (0: no expiry), unless an earlier entry is there. */
  async #noteExpiry(userId: string, earliest: number): Promise<void> {
    if (earliest > 0) await this.redis.zadd(dueKeyOf(this.#settings.prefix, userId), 'LT', earliest, `u${userId}`)
  }

  async list(userId: string, { prefix = '', after, limit }: StorageListOptions): Promise<StoredEntry[]> {
    if (limit <= 0) return []
    const k = userKeys(this.#settings.prefix, userId)
    let [kind, bound] = after !== undefined && compareKeys(after, prefix) >= 0 ? ['>', after] : ['>=', prefix]
    const entries: StoredEntry[] = []
    // Each script scans at most SCAN_STEP keys (tombstones included), so a user full of tombstones blocks nobody.
    while (entries.length < limit) {
      const [next, ...reply] = await this.#scripts.cubbyList(k.data, k.keys, kind, bound, prefix, limit - entries.length, SCAN_STEP, Date.now()) as Array<string | number>
      for (let i = 0; i < reply.length; i += 4) {
        const entry: StoredEntry = { key: String(reply[i]), rev: Number(reply[i + 1]), value: String(reply[i + 2]) }
        if (reply[i + 3] !== '') entry.expiresAt = Number(reply[i + 3])
        entries.push(entry)
      }
      if (next === '') break
      ;[kind, bound] = ['>', String(next)]
    }
    return entries
  }

  async changesSince(userId: string, rev: number, limit: number): Promise<{ changes: Change[]; rev: number }> {
    const k = userKeys(this.#settings.prefix, userId)
    let changes: Change[] = []
    let covered = rev
    let bytes = 0
    // At most SCAN_STEP log entries per script; a larger page runs several, each going on from the rev covered. The
    // page ends once its values reach CATCH_UP_PAGE_BYTES (each script stops there too).
    for (;;) {
      const ask = Math.max(0, Math.min(SCAN_STEP, limit - changes.length))
      const [to, ...flat] = await this.#scripts.cubbyChanges(k.meta, k.data, k.log, k.deleted, covered, ask, CATCH_UP_PAGE_BYTES - bytes, Date.now()) as Array<string | number>
      covered = Number(to)
      for (let i = 0; i < flat.length; i += 5) {
        const [kind, at, key, value, expiresAt] = [flat[i], Number(flat[i + 1]), String(flat[i + 2]), String(flat[i + 3]), flat[i + 4]]
        if (kind === 'v') changes.push(expiresAt === '' ? { rev: at, key, value } : { rev: at, key, value, expiresAt: Number(expiresAt) })
        else changes.push(kind === 'c' ? { rev: at, clear: true } : { rev: at, key, deleted: true })
        if (kind === 'v') bytes += value.length
      }
      if (flat.length / 5 < ask || ask === 0 || changes.length >= limit || bytes >= CATCH_UP_PAGE_BYTES) break
    }
    // A key written between two scripts shows up in both: keep its later change only.
    const last = new Map<string, number>()
    changes.forEach((c, i) => { if ('key' in c) last.set(c.key, i) })
    if (last.size < changes.filter((c) => 'key' in c).length) changes = changes.filter((c, i) => !('key' in c) || last.get(c.key) === i)
    return { changes, rev: covered }
  }

  snapshot(userId: string): Promise<StorageSnapshot> {
    return this.#snapshot(userId)
  }

  #snapshot(userId: string): Promise<RedisSnapshot> {
    return this.#write(userId, () => openSnapshot(this.#scripts, this.#settings.prefix, userId))
  }

  async head(userId: string): Promise<number> {
    const k = userKeys(this.#settings.prefix, userId)
    const head = await this.redis.hget(k.meta, 'h')
    // A deleted user keeps their head in the deletion marker.
    return head === null ? parseDeletion(await this.redis.get(k.deleted))?.head ?? 0 : Number(head)
  }

  async users(options: { after?: string; limit: number }): Promise<UserSummary[]> {
    // A Cluster knows its masters once connected; a PING waits for that.
    await this.open()
    return listUsers(this.redis, this.#settings.prefix, options)
  }

  async usersUnusedSince(options: { before: number; after?: string; limit: number }): Promise<string[]> {
    await this.open()
    return usersUnusedSince(this.redis, this.#settings.prefix, options)
  }

  async* exportUser(userId: string): AsyncGenerator<UserRecord> {
    yield* exportUser(await this.#snapshot(userId), userId, this.redis, userKeys(this.#settings.prefix, userId).clients)
  }

  importUser(userId: string, records: AsyncIterable<UserRecord>): Promise<ImportResult> {
    return importUser(records, (step) => this.#write(userId, step), {
      scripts: this.#scripts, keys: userKeys(this.#settings.prefix, userId), noteExpiry: (earliest) => this.#noteExpiry(userId, earliest),
    })
  }

  deleteUser(userId: string): Promise<boolean> {
    return this.#write(userId, async () => {
      const k = userKeys(this.#settings.prefix, userId)
      return await this.#scripts.cubbyDeleteUser(k.meta, k.data, k.keys, k.log, k.clients, k.deleted, k.snapshots, k.expiry, Date.now()) === 1
    })
  }

  /**
   * Clears and deletions UNLINK a user's keys: they leave the keyspace in O(1) and Redis frees large ones in its
   * background thread. This waits until every master has freed what was pending when it was called.
   */
  async purge(): Promise<void> {
    await this.open()
    await waitForLazyFree(this.redis)
  }

  async deletedAt(userId: string): Promise<number | undefined> {
    const deletion = parseDeletion(await this.redis.get(userKeys(this.#settings.prefix, userId).deleted))
    return deletion === undefined ? undefined : Math.floor(deletion.ms / 1000)
  }

  /**
   * Runs a user's write after their earlier ones (so call order holds even through a script reload or a Cluster
   * redirect), then waits for the replicas the options ask for.
   */
  #write<T>(userId: string, task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new CubbyError('CLOSED', 'The storage is closed'))
    const run = async (): Promise<T> => {
      const result = await task()
      await this.#waitForReplicas(userId)
      return result
    }
    const previous = this.#tails.get(userId)
    const result = previous === undefined ? run() : previous.then(run, run)
    const tail = result.then(() => undefined, () => undefined)
    this.#tails.set(userId, tail)
    this.#inFlight.add(tail)
    void tail.then(() => {
      this.#inFlight.delete(tail)
      if (this.#tails.get(userId) === tail) this.#tails.delete(userId)
    })
    return result
  }

  async #waitForReplicas(userId: string): Promise<void> {
    const { waitReplicas, waitTimeoutMs, prefix } = this.#settings
    if (waitReplicas === 0) return
    // In a pipeline, WAIT goes over the connection to the user's master, the one that ran the write.
    const replies = await this.redis.pipeline().exists(userKeys(prefix, userId).meta).call('WAIT', waitReplicas, waitTimeoutMs).exec()
    const [error, acked] = replies?.[1] ?? [new Error('no reply to WAIT')]
    if (error !== null && error !== undefined) throw error
    if (Number(acked) < waitReplicas) {
      throw new CubbyError('INTERNAL', `Only ${Number(acked)} of ${waitReplicas} replicas confirmed the write within ${waitTimeoutMs} ms`)
    }
  }
}

/** Now in whole seconds since the epoch, as a meta's `u` (last write) holds it. */
const nowInSeconds = (): number => Math.floor(Date.now() / 1000)

/** A mutation's condition as the commit script takes it: '' for none, 'a' for absent, else the rev. */
const conditionArg = (m: Mutation): string | number =>
  m.op === 'clear' || m.if === undefined ? '' : 'absent' in m.if ? 'a' : m.if.rev

/** The `CONFLICT` of a commit script's kind 6 (its condition failed), 7 (it had failed before) or 8 (its batch's did). */
function conflictOf(kind: number, m: Mutation, version: number): WireError {
  const key = m.op === 'clear' ? '' : JSON.stringify(m.key)
  const message = kind === 6 ? `${key} did not meet its condition: it is at version ${version}`
    : kind === 7 ? 'This write was rejected before: its condition did not hold' : 'Another write of its atomic batch conflicted'
  return { code: 'CONFLICT', message, rev: version }
}

function commitResult(mutations: Mutation[], reply: number[], quota: UserQuota): CommitResult {
  const results: MutationResult[] = []
  const changes: Change[] = []
  mutations.forEach((m, i) => {
    const kind = reply[1 + 2 * i]
    const rev = Number(reply[2 + 2 * i])
    if (kind === 3) results.push({ mid: m.mid, error: { code: 'QUOTA_EXCEEDED', message: `A user may keep at most ${quota.maxKeys} keys` } })
    else if (kind === 5) results.push({ mid: m.mid, error: { code: 'UNAUTHORIZED', message: 'The user was deleted; sign in again' } })
    else if (kind === 4) results.push({ mid: m.mid, error: { code: 'QUOTA_EXCEEDED', message: `A user may store at most ${quota.maxBytes} bytes` } })
    else if (kind === 6 || kind === 7 || kind === 8) results.push({ mid: m.mid, error: conflictOf(kind, m, rev) })
    else results.push({ mid: m.mid, rev })
    if (kind !== 1) return
    if (m.op === 'store') changes.push(m.expiresAt === undefined ? { rev, key: m.key, value: m.value } : { rev, key: m.key, value: m.value, expiresAt: m.expiresAt })
    else changes.push(m.op === 'clear' ? { rev, clear: true } : { rev, key: m.key, deleted: true })
  })
  return { results, changes, head: Number(reply[0]) }
}

import { randomUUID } from 'node:crypto'
import type { Change } from '@cubby/protocol'
import type { ChangeBus, ChangeBusListener, StorageMetricsHooks, UserEvent } from '@cubby/server'
import type { Registry } from 'prom-client'
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis'
import { closeRedis } from './closeRedis.js'
import { checkPrefix, userTag } from './redisKeys.js'
import { countRedis, redisCounters, type RedisCounters } from './redisMetrics.js'

/** Options of {@link createRedisBus}. */
export interface RedisBusOptions {
  /** Options or a `redis://` URL of the Redis (with {@link cluster}: applied to each node's connection). The bus makes its own two connections. */
  redis: RedisOptions | string
  /** Startup nodes of a Redis Cluster: the bus then uses sharded pub/sub (SPUBLISH, SSUBSCRIBE) on each user's shard. */
  cluster?: ClusterNode[]
  /** Prefix of the channels; use the storage's. @default 'cubby:' */
  prefix?: string
  /** Where to report a publish that failed (it counts as a lost message). @default ignore */
  onError?: (error: unknown) => void
}

/** The bus's message of a commit on a user's channel, or of a user event on the events channel. */
interface BusMessage {
  /** The node that sent it (a node skips its own). */
  n: string
  /** The changes of a commit. */
  c?: readonly Change[]
  /** The user of an event. */
  u?: string
  e?: UserEvent
  /** The device revoked (an event without `e`). */
  d?: string
}

/**
 * Creates a {@link ChangeBus} on Redis pub/sub, for several `cubby-server` nodes on one Redis (pass it with
 * the same Redis's `createRedisStorage` to `createCubbyServer`). A user's commits go to the channel
 * `<prefix>{<user's hash tag>}:bus`, which nodes subscribe to while they have sessions of the user: PUBLISH and
 * SUBSCRIBE on one `redis-server`, SPUBLISH and SSUBSCRIBE on a Cluster (the channel hashes to the user's slot,
 * so a commit's message stays on the shard that ran it). User events (deleted, replaced, a device revoked) go to
 * `<prefix>events`, which every node hears. Pub/sub is at most once: after the subscriber connection comes back,
 * the bus asks the server to resync every session from storage, and a session that sees a gap in revisions
 * reads the rest from storage.
 * @example
 * ```ts
 * const storage = createRedisStorage({ redis: 'redis://127.0.0.1:6379' })
 * const bus = createRedisBus({ redis: 'redis://127.0.0.1:6379' })
 * const server = createCubbyServer({ storage, bus, secret: process.env.CUBBY_SECRET })
 * ```
 */
export function createRedisBus(options: RedisBusOptions): ChangeBus {
  const prefix = options.prefix ?? 'cubby:'
  checkPrefix(prefix)
  return new RedisBus(options, prefix)
}

class RedisBus implements ChangeBus {
  readonly #node = randomUUID()
  readonly #prefix: string
  readonly #sharded: boolean
  readonly #pub: Redis | Cluster
  readonly #sub: Redis | Cluster
  readonly #events: string
  readonly #onError: (error: unknown) => void
  readonly #users = new Set<string>()
  #listener: ChangeBusListener | undefined
  #readyOnce = false
  /** A shard subscriber went away since the last time they were all ready. */
  #shardLost = false
  #closed = false
  #counters: RedisCounters | undefined
  #hooks: StorageMetricsHooks | undefined

  constructor(options: RedisBusOptions, prefix: string) {
    this.#prefix = prefix
    this.#events = `${prefix}events`
    this.#onError = options.onError ?? (() => {})
    const { redis, cluster } = options
    this.#sharded = cluster !== undefined
    const base = typeof redis === 'string' ? {} : redis
    // ioredis's own option types fail under exactOptionalPropertyTypes (an optional field typed without undefined).
    const make = (subscriber: boolean): Redis | Cluster => cluster !== undefined
      ? new Cluster(cluster, { redisOptions: base as never, ...(subscriber ? { shardedSubscribers: true } : {}) })
      : typeof redis === 'string' ? new Redis(redis) : new Redis(redis as never)
    this.#pub = make(false)
    this.#sub = make(true)
    this.#sub.on('error', (error: unknown) => this.#onError(error))
    this.#pub.on('error', (error: unknown) => this.#onError(error))
    this.#sub.on('message', (channel: string, message: string) => this.#received(channel, message))
    this.#sub.on('smessage', (channel: string, message: string) => this.#received(channel, message))
    // Every connection after the first may have missed messages while it was down.
    this.#sub.on('ready', () => {
      if (this.#readyOnce) void this.#resubscribed()
      this.#readyOnce = true
    })
    if (this.#sharded) {
      // A Cluster's shard subscribers come and go on their own (a dropped connection, a slot move): ioredis replaces
      // one ('-subscriber') and then says so ('subscribersReady'), without a 'ready' of the Cluster.
      this.#sub.on('-subscriber', () => { this.#shardLost = true })
      this.#sub.on('subscribersReady', () => {
        if (!this.#shardLost) return
        this.#shardLost = false
        this.#counters?.reconnects.labels('bus-subscriber').inc()
        void this.#resubscribed()
      })
    }
    this.#sub.subscribe(this.#events).catch((error: unknown) => this.#onError(error))
  }

  registerMetrics(registry: Registry, hooks: StorageMetricsHooks): void {
    const counters = (this.#counters = redisCounters(registry))
    for (const outcome of ['received', 'dropped'] as const) counters.busMessages.labels(outcome).inc(0)
    countRedis(this.#pub, 'bus', counters)
    countRedis(this.#sub, 'bus-subscriber', counters)
    this.#hooks = hooks
  }

  listen(listener: ChangeBusListener): void {
    this.#listener = listener
  }

  publish(userId: string, changes: readonly Change[]): void {
    const message = JSON.stringify({ n: this.#node, c: changes } satisfies BusMessage)
    const channel = this.#channel(userId)
    const sent = this.#sharded ? this.#pub.spublish(channel, message) : this.#pub.publish(channel, message)
    sent.catch((error: unknown) => this.#onError(error))
  }

  async publishUserEvent(userId: string, event: UserEvent): Promise<void> {
    await this.#pub.publish(this.#events, JSON.stringify({ n: this.#node, u: userId, e: event } satisfies BusMessage))
  }

  async publishDeviceRevoked(userId: string, deviceId: string): Promise<void> {
    await this.#pub.publish(this.#events, JSON.stringify({ n: this.#node, u: userId, d: deviceId } satisfies BusMessage))
  }

  subscribe(userId: string): void {
    this.#users.add(userId)
    const channel = this.#channel(userId)
    // Changes committed between the session's first read and this subscription are read once it is active.
    const subscribed = this.#sharded ? this.#sub.ssubscribe(channel) : this.#sub.subscribe(channel)
    subscribed.then(() => this.#listener?.resync(userId), (error: unknown) => this.#onError(error))
  }

  unsubscribe(userId: string): void {
    this.#users.delete(userId)
    const channel = this.#channel(userId)
    const done = this.#sharded ? this.#sub.sunsubscribe(channel) : this.#sub.unsubscribe(channel)
    done.catch((error: unknown) => this.#onError(error))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#sub.disconnect()
    await closeRedis(this.#pub)
  }

  #channel(userId: string): string {
    return `${this.#prefix}${userTag(userId)}:bus`
  }

  async #resubscribed(): Promise<void> {
    if (this.#closed) return
    try {
      // Subscribing again is harmless and, once answered, sure to be active: only then is storage read.
      await this.#sub.subscribe(this.#events)
      if (!this.#sharded && this.#users.size > 0) await this.#sub.subscribe(...[...this.#users].map((u) => this.#channel(u)))
      // ioredis resubscribed the shard channels itself, without a reply to wait for: a SUNSUBSCRIBE and SSUBSCRIBE
      // of each (one shard's channels in order on its connection) tell when they are active again.
      if (this.#sharded) await Promise.all([...this.#users].map((u) => this.#reshard(u)))
    } catch (error) {
      this.#onError(error)
    }
    // The sessions of every user this node follows read what they may have missed: a catch-up after a gap (counted per user).
    if (this.#listener !== undefined) for (let i = 0; i < this.#users.size; i++) this.#hooks?.catchUp('gap')
    this.#listener?.resync()
  }

  async #reshard(userId: string): Promise<void> {
    const channel = this.#channel(userId)
    await this.#sub.sunsubscribe(channel)
    if (this.#users.has(userId)) await this.#sub.ssubscribe(channel)
  }

  #received(channel: string, raw: string): void {
    let message: BusMessage
    try {
      message = JSON.parse(raw) as BusMessage
    } catch {
      this.#counters?.busMessages.labels('dropped').inc()
      return
    }
    if (typeof message !== 'object' || message === null || typeof message.n !== 'string') {
      this.#counters?.busMessages.labels('dropped').inc()
      return
    }
    this.#counters?.busMessages.labels('received').inc()
    if (message.n === this.#node || this.#listener === undefined) return
    if (channel === this.#events) {
      if (typeof message.u === 'string' && (message.e === 'deleted' || message.e === 'replaced')) this.#listener.userEvent(message.u, message.e)
      else if (typeof message.u === 'string' && typeof message.d === 'string') this.#listener.deviceRevoked(message.u, message.d)
      return
    }
    const userId = this.#userOf(channel)
    if (userId !== undefined && Array.isArray(message.c) && this.#users.has(userId)) this.#listener.changes(userId, message.c)
  }

  /** The user of a changes channel, from the hex in its hash tag. */
  #userOf(channel: string): string | undefined {
    const tag = /^\{([0-9a-f]*)\}:bus$/.exec(channel.slice(this.#prefix.length))
    return tag === null ? undefined : Buffer.from(tag[1]!, 'hex').toString('utf8')
  }
}

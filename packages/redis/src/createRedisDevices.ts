import type { AddDeviceResult, DeviceRecord, DeviceRegistry, LinkCodeRecord } from '@cubby/server'
import type { Cluster, Redis } from 'ioredis'
import { userTag } from './redisKeys.js'

/*
 * The Redis keys of devices and link codes (beside those of redisKeys.ts):
 * <prefix>{<tag>}:v     hash    device id → the device record (JSON)
 * <prefix>{<tag>}:q     zset    the user's live codes: SHA-256 of the code, score its expiry (ms); expires with the last
 * <prefix>link:<sha256> string  `{ userId, expiresAt }` (JSON), expiring with the code. In another slot than the
 *                               user's: a code counts only while its member is in the user's :q too, so removing :q
 *                               (a deletion) voids every code of the user at once
 */

/** Prunes expired codes, refuses one over the bound, adds the code. KEYS: :q; ARGV: hash, expiresAt, now, max. */
const CREATE_LINK = `
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) - now)
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 0
`

/** KEYS: :v; ARGV: id, record (JSON), max. */
const ADD_DEVICE = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  if cjson.decode(existing).revokedAt then return 'revoked' end
  return 'exists'
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 'full' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'added'
`

/** KEYS: :v; ARGV: id, at, the record to revoke when there is none (JSON). */
const REVOKE_DEVICE = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
local record = cjson.decode(existing or ARGV[3])
if record.revokedAt then return 0 end
record.revokedAt = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 1
`

/** KEYS: :v; ARGV: id, at. Only on a live record, never backwards. */
const SEE_DEVICE = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if not existing then return 0 end
local record = cjson.decode(existing)
if record.revokedAt or (record.lastSeen and record.lastSeen >= tonumber(ARGV[2])) then return 0 end
record.lastSeen = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 1
`

type Script = (...args: Array<string | number>) => Promise<unknown>
interface DeviceScripts {
  cubbyCreateLink: Script
  cubbyAddDevice: Script
  cubbyRevokeDevice: Script
  cubbySeeDevice: Script
}

const SCRIPTS: Record<keyof DeviceScripts, string> = { cubbyCreateLink: CREATE_LINK, cubbyAddDevice: ADD_DEVICE, cubbyRevokeDevice: REVOKE_DEVICE, cubbySeeDevice: SEE_DEVICE }

/**
 * The {@link DeviceRegistry} of the Redis storage: each change of a user's devices or codes is one script on the
 * user's slot; taking a code is one GETDEL, then the removal of its member from the user's set, which only one
 * taker can do.
 * @internal
 */
export function createRedisDevices(redis: Redis | Cluster, prefix: string): DeviceRegistry {
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, { lua, numberOfKeys: 1 })
  }
  return new RedisDevices(redis, redis as unknown as DeviceScripts, prefix)
}

class RedisDevices implements DeviceRegistry {
  readonly #redis: Redis | Cluster
  readonly #scripts: DeviceScripts
  readonly #prefix: string

  constructor(redis: Redis | Cluster, scripts: DeviceScripts, prefix: string) {
    this.#redis = redis
    this.#scripts = scripts
    this.#prefix = prefix
  }

  async createLink(userId: string, codeHash: string, { expiresAt, now, max }: { expiresAt: number; now: number; max: number }): Promise<number> {
    const wait = Number(await this.#scripts.cubbyCreateLink(this.#codes(userId), codeHash, expiresAt, now, max))
    if (wait > 0) return wait
    await this.#redis.set(this.#link(codeHash), JSON.stringify({ userId, expiresAt } satisfies LinkCodeRecord), 'PXAT', expiresAt)
    return 0
  }

  async redeemLink(codeHash: string, now: number): Promise<LinkCodeRecord | undefined> {
    const raw = await this.#redis.getdel(this.#link(codeHash))
    if (raw === null) return undefined
    const record = JSON.parse(raw) as LinkCodeRecord
    const owned = await this.#redis.zrem(this.#codes(record.userId), codeHash)
    return owned === 1 && record.expiresAt > now ? record : undefined
  }

  async addDevice(userId: string, device: DeviceRecord, max: number): Promise<AddDeviceResult> {
    return await this.#scripts.cubbyAddDevice(this.#devices(userId), device.id, JSON.stringify(device), max) as AddDeviceResult
  }

  async device(userId: string, id: string): Promise<DeviceRecord | undefined> {
    const raw = await this.#redis.hget(this.#devices(userId), id)
    return raw === null ? undefined : JSON.parse(raw) as DeviceRecord
  }

  async devices(userId: string): Promise<DeviceRecord[]> {
    const all = await this.#redis.hgetall(this.#devices(userId))
    return Object.keys(all).sort().map((id) => JSON.parse(all[id]!) as DeviceRecord)
  }

  async revokeDevice(userId: string, id: string, at: number): Promise<boolean> {
    const fallback: DeviceRecord = { id, label: '', createdAt: 0 }
    return Number(await this.#scripts.cubbyRevokeDevice(this.#devices(userId), id, at, JSON.stringify(fallback))) === 1
  }

  async seeDevice(userId: string, id: string, at: number): Promise<void> {
    await this.#scripts.cubbySeeDevice(this.#devices(userId), id, at)
  }

  async deleteUser(userId: string): Promise<void> {
    const codes = await this.#redis.zrange(this.#codes(userId), 0, -1)
    // The user's :q first: from then on no code of the user counts, whatever is left of its link keys.
    await this.#redis.del(this.#codes(userId), this.#devices(userId))
    for (const hash of codes) await this.#redis.del(this.#link(hash))
  }

  #devices(userId: string): string {
    return `${this.#prefix}${userTag(userId)}:v`
  }

  #codes(userId: string): string {
    return `${this.#prefix}${userTag(userId)}:q`
  }

  #link(codeHash: string): string {
    return `${this.#prefix}link:${codeHash}`
  }
}

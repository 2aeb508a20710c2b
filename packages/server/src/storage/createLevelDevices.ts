import type { AddDeviceResult, DeviceRecord, DeviceRegistry, LinkCodeRecord } from '../auth/DeviceRegistry.js'
import { readRange, UTF8, type LevelBatchOperation, type LevelDatabase } from './LevelDatabase.js'
import { userPrefix } from './levelKeys.js'

/*
 * The LevelDB key layout of devices and link codes (beside the tags of levelKeys.ts):
 * - `V` + user prefix + device id → the device record (JSON)
 * - `Q` + SHA-256 of a code (base64url) → `{ userId, expiresAt }` (JSON)
 * - `q` + user prefix + SHA-256 of a code → its expiry (ms): the user's live codes, to bound and delete them
 */
const deviceKey = (userId: string, id: string): string => `V${userPrefix(userId)}${id}`
const codeKey = (hash: string): string => `Q${hash}`
const userCodeKey = (userId: string, hash: string): string => `q${userPrefix(userId)}${hash}`
/** Bounds of every record with one tag of a user (the prefix ends in `\x00`, so `\x01` closes it). */
const range = (tag: 'V' | 'q', userId: string): { gte: string; lt: string } => {
  const p = `${tag}${userPrefix(userId)}`
  return { gte: p, lt: `${p.slice(0, -1)}\x01` }
}
const SYNC = { ...UTF8, sync: true }

/**
 * The {@link DeviceRegistry} of the LevelDB storage. LevelDB has no transactions, so every read-modify-write runs
 * one at a time through one in-process queue (a LevelDB database has one process) and ends in one fsync'd batch.
 * @internal
 */
export function createLevelDevices(db: LevelDatabase): DeviceRegistry {
  return new LevelDevices(db)
}

class LevelDevices implements DeviceRegistry {
  readonly #db: LevelDatabase
  #tail: Promise<unknown> = Promise.resolve()

  constructor(db: LevelDatabase) {
    this.#db = db
  }

  createLink(userId: string, codeHash: string, { expiresAt, now, max }: { expiresAt: number; now: number; max: number }): Promise<number> {
    return this.#serial(async () => {
      const ops: LevelBatchOperation[] = []
      const live: number[] = []
      for (const [key, value] of await this.#all(range('q', userId))) {
        if (Number(value) > now) live.push(Number(value))
        else ops.push({ type: 'del', key }, { type: 'del', key: codeKey(key.slice(range('q', userId).gte.length)) })
      }
      if (live.length >= max) {
        if (ops.length > 0) await this.#db.batch(ops, SYNC)
        return Math.max(1, Math.min(...live) - now)
      }
      ops.push({ type: 'put', key: userCodeKey(userId, codeHash), value: String(expiresAt) })
      ops.push({ type: 'put', key: codeKey(codeHash), value: JSON.stringify({ userId, expiresAt } satisfies LinkCodeRecord) })
      await this.#db.batch(ops, SYNC)
      return 0
    })
  }

  redeemLink(codeHash: string, now: number): Promise<LinkCodeRecord | undefined> {
    return this.#serial(async () => {
      const [raw] = await this.#db.getMany([codeKey(codeHash)], UTF8)
      if (raw === undefined) return undefined
      const record = JSON.parse(raw) as LinkCodeRecord
      const [owned] = await this.#db.getMany([userCodeKey(record.userId, codeHash)], UTF8)
      await this.#db.batch([{ type: 'del', key: codeKey(codeHash) }, { type: 'del', key: userCodeKey(record.userId, codeHash) }], SYNC)
      // Without the user's entry, the user was deleted since the code was made.
      return owned !== undefined && record.expiresAt > now ? record : undefined
    })
  }

  addDevice(userId: string, device: DeviceRecord, max: number): Promise<AddDeviceResult> {
    return this.#serial(async () => {
      const existing = await this.device(userId, device.id)
      if (existing !== undefined) return existing.revokedAt === undefined ? 'exists' : 'revoked'
      if ((await this.#all(range('V', userId), false)).length >= max) return 'full'
      await this.#db.batch([{ type: 'put', key: deviceKey(userId, device.id), value: JSON.stringify(device) }], SYNC)
      return 'added'
    })
  }

  async device(userId: string, id: string): Promise<DeviceRecord | undefined> {
    const [raw] = await this.#db.getMany([deviceKey(userId, id)], UTF8)
    return raw === undefined ? undefined : JSON.parse(raw) as DeviceRecord
  }

  async devices(userId: string): Promise<DeviceRecord[]> {
    return (await this.#all(range('V', userId))).map(([, raw]) => JSON.parse(raw) as DeviceRecord)
  }

  revokeDevice(userId: string, id: string, at: number): Promise<boolean> {
    return this.#serial(async () => {
      const existing = await this.device(userId, id) ?? { id, label: '', createdAt: 0 }
      if (existing.revokedAt !== undefined) return false
      await this.#db.batch([{ type: 'put', key: deviceKey(userId, id), value: JSON.stringify({ ...existing, revokedAt: at }) }], SYNC)
      return true
    })
  }

  seeDevice(userId: string, id: string, at: number): Promise<void> {
    return this.#serial(async () => {
      const existing = await this.device(userId, id)
      if (existing === undefined || existing.revokedAt !== undefined || (existing.lastSeen ?? 0) >= at) return
      // Not fsync'd: a lastSeen lost in a crash is only a little older.
      await this.#db.batch([{ type: 'put', key: deviceKey(userId, id), value: JSON.stringify({ ...existing, lastSeen: at }) }], { ...UTF8, sync: false })
    })
  }

  deleteUser(userId: string): Promise<void> {
    return this.#serial(async () => {
      const ops: LevelBatchOperation[] = []
      const codes = range('q', userId)
      for (const [key] of await this.#all(codes, false)) ops.push({ type: 'del', key }, { type: 'del', key: codeKey(key.slice(codes.gte.length)) })
      for (const [key] of await this.#all(range('V', userId), false)) ops.push({ type: 'del', key })
      if (ops.length > 0) await this.#db.batch(ops, SYNC)
    })
  }

  /** Every `[key, value]` of a range (small: a user's devices and codes are bounded). */
  async #all(bounds: { gte: string; lt: string }, values = true): Promise<Array<[string, string]>> {
    const found: Array<[string, string]> = []
    await readRange(this.#db, { ...bounds, values }, (page) => void found.push(...page))
    return found
  }

  /** Runs `task` after every task queued before it, so that no two read-modify-writes interleave. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task)
    this.#tail = run.catch(() => {})
    return run
  }
}

import { CubbyError, assertValidKey, decodeValue, encodeValue, resolveExpiresAt } from '@cubby/protocol'
import type { CubbyLimits, Mutation, WriteCondition } from '@cubby/protocol'
import type { ServerWriteOptions } from './CubbyServer.js'
import type { CubbyStorage, StorageListOptions } from './storage/CubbyStorage.js'
import { assertUserId } from './writes/validateMutation.js'
import type { Writer } from './writes/Writer.js'

/** Options of the server-side `list` and `entries`. */
export interface ServerListOptions {
  /** Only keys that start with this. @default '' */
  prefix?: string
  /** Only keys after this one, for paging. @default undefined */
  after?: string
  /** Most keys to return. @default all */
  limit?: number
}

/** The wire condition of server write options. @throws TypeError for a bad `ifVersion`, or both options. */
function conditionOf(options: ServerWriteOptions | undefined): WriteCondition | undefined {
  const { ifVersion, ifAbsent = false } = options ?? {}
  if (ifVersion !== undefined && (!Number.isSafeInteger(ifVersion) || ifVersion < 0)) throw new TypeError('ifVersion must be a non-negative integer')
  if (ifVersion !== undefined && ifAbsent) throw new TypeError('Give ifVersion or ifAbsent, not both')
  if (ifAbsent || ifVersion === 0) return { absent: true }
  return ifVersion === undefined ? undefined : { rev: ifVersion }
}

/**
 * The store verbs by user id, on decoded values, through the same validation, commit and publish as every
 * other write, so live clients see them at once.
 * @internal
 */
export class ServerVerbs {
  readonly #storage: CubbyStorage
  readonly #writer: Writer
  readonly #limits: CubbyLimits
  readonly #ready: () => Promise<void>

  constructor(storage: CubbyStorage, writer: Writer, limits: CubbyLimits, ready: () => Promise<void>) {
    this.#storage = storage
    this.#writer = writer
    this.#limits = limits
    this.#ready = ready
  }

  async store(userId: string, key: string, value: unknown, options: ServerWriteOptions = {}): Promise<number> {
    assertValidKey(key, this.#limits.maxKeyBytes)
    const expiresAt = resolveExpiresAt(options, Date.now())
    const condition = conditionOf(options)
    return this.#write(userId, {
      op: 'store', mid: 1, key, value: encodeValue(value), ...(expiresAt !== undefined && { expiresAt }), ...(condition !== undefined && { if: condition }),
    })
  }

  async getEntry(userId: string, key: string): Promise<{ value: unknown; version: number } | undefined> {
    await this.#check(userId, key)
    const entry = await this.#storage.get(userId, key)
    return entry === undefined ? undefined : { value: decodeValue(entry.value), version: entry.rev }
  }

  async get(userId: string, key: string): Promise<unknown> {
    await this.#check(userId, key)
    const entry = await this.#storage.get(userId, key)
    return entry === undefined ? undefined : decodeValue(entry.value)
  }

  async entries(userId: string, options: ServerListOptions = {}): Promise<Array<[string, unknown]>> {
    await this.#check(userId)
    const { prefix, after, limit = Number.POSITIVE_INFINITY } = options
    const query: StorageListOptions = { limit }
    if (prefix !== undefined) query.prefix = prefix
    if (after !== undefined) query.after = after
    const entries = await this.#storage.list(userId, query)
    return entries.map((e) => [e.key, decodeValue(e.value)])
  }

  async delete(userId: string, key: string, options?: ServerWriteOptions): Promise<number> {
    assertValidKey(key, this.#limits.maxKeyBytes)
    const condition = conditionOf(options)
    return this.#write(userId, { op: 'delete', mid: 1, key, ...(condition !== undefined && { if: condition }) })
  }

  clear(userId: string): Promise<number> {
    return this.#write(userId, { op: 'clear', mid: 1 })
  }

  async #check(userId: string, key?: string): Promise<void> {
    assertUserId(userId, this.#limits)
    if (key !== undefined) assertValidKey(key, this.#limits.maxKeyBytes)
    await this.#ready()
  }

  async #write(userId: string, mutation: Mutation): Promise<number> {
    await this.#check(userId)
    const [result] = await this.#writer.write(userId, [mutation])
    if (result === undefined) throw new CubbyError('INTERNAL', 'The write got no result')
    if ('error' in result) throw new CubbyError(result.error.code, result.error.message)
    return result.rev
  }
}

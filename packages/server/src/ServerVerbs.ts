import { CubbyError, assertValidKey, decodeValue, encodeValue, resolveExpiresAt } from '@cubby/protocol'
import type { CubbyLimits, ExpiryInput, Mutation } from '@cubby/protocol'
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

  async store(userId: string, key: string, value: unknown, expiry: ExpiryInput = {}): Promise<number> {
    assertValidKey(key, this.#limits.maxKeyBytes)
    const expiresAt = resolveExpiresAt(expiry, Date.now())
    const encoded = encodeValue(value)
    return this.#write(userId, expiresAt === undefined ? { op: 'store', mid: 1, key, value: encoded } : { op: 'store', mid: 1, key, value: encoded, expiresAt })
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

  async delete(userId: string, key: string): Promise<number> {
    assertValidKey(key, this.#limits.maxKeyBytes)
    return this.#write(userId, { op: 'delete', mid: 1, key })
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

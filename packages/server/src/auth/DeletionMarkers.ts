import type { CubbyStorage } from '../storage/CubbyStorage.js'

/** Users whose marker (or its absence) is kept in memory; the least recently used are forgotten first. */
const MAX_CACHED = 10_000

/**
 * The storage's deletion markers (see `CubbyStorage.deletedAt`) with a bounded in-memory cache, so checking every
 * request costs a LevelDB read only for users not seen lately. The cache is kept right by {@link forget} after a
 * deletion or an import: on this node, or on another one sharing the storage (told through the change bus, which
 * calls {@link forgetAll} after an outage in which it may have missed that).
 * @internal
 */
export class DeletionMarkers {
  readonly #storage: CubbyStorage
  readonly #ready: () => Promise<void>
  readonly #cache = new Map<string, number | undefined>()
  /** Bumped by every {@link forget}, so a read that started before it does not cache what it found. */
  #epoch = 0

  constructor(storage: CubbyStorage, ready: () => Promise<void>) {
    this.#storage = storage
    this.#ready = ready
  }

  /** When the user was last deleted (seconds since the epoch), or `undefined`. */
  async deletedAt(userId: string): Promise<number | undefined> {
    if (this.#cache.has(userId)) {
      const at = this.#cache.get(userId)
      this.#cache.delete(userId)
      this.#cache.set(userId, at)
      return at
    }
    const epoch = this.#epoch
    await this.#ready()
    const at = await this.#storage.deletedAt(userId)
    if (epoch === this.#epoch) this.#remember(userId, at)
    return at
  }

  /** Drops what is known of a user, after their marker changed. */
  forget(userId: string): void {
    this.#epoch++
    this.#cache.delete(userId)
  }

  /** Drops everything cached (a deletion on another node may have gone unheard). */
  forgetAll(): void {
    this.#epoch++
    this.#cache.clear()
  }

  #remember(userId: string, at: number | undefined): void {
    this.#cache.set(userId, at)
    if (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!)
  }
}

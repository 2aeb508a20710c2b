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
  /** Deletions and imports in progress, by user: checks of the user wait for them (at most one entry per operation). */
  readonly #changing = new Map<string, Promise<void>>()
  /** Bumped by every {@link forget}, so a read that started before it does not cache what it found. */
  #epoch = 0

  constructor(storage: CubbyStorage, ready: () => Promise<void>) {
    this.#storage = storage
    this.#ready = ready
  }

  /** When the user was last deleted (seconds since the epoch), or `undefined`. Waits for a change in progress. */
  async deletedAt(userId: string): Promise<number | undefined> {
    for (let changing = this.#changing.get(userId); changing !== undefined; changing = this.#changing.get(userId)) await changing
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

  /**
   * Runs a change of the user's marker (a deletion or an import): checks of the user that start meanwhile wait
   * for it and then read the marker afresh. So a token checked after a deletion began sees its marker, and one
   * checked before began (and carries that time) is refused by the commit's own barrier; no stale cached
   * "not deleted" lets a write through in between.
   */
  async changing<T>(userId: string, change: () => Promise<T>): Promise<T> {
    const running = Promise.resolve().then(change)
    const settled = running.then(() => {}, () => {})
    this.#changing.set(userId, settled)
    this.forget(userId)
    try {
      return await running
    } finally {
      if (this.#changing.get(userId) === settled) this.#changing.delete(userId)
      this.forget(userId)
    }
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

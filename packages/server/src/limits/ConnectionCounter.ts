/**
 * Open connections by key (a remote address or a user id), for the per-key connection caps.
 * @internal
 */
export class ConnectionCounter {
  readonly #counts = new Map<string, number>()

  /** How many connections `key` has open. */
  count(key: string): number {
    return this.#counts.get(key) ?? 0
  }

  /** Counts a new connection of `key`. */
  add(key: string): void {
    this.#counts.set(key, this.count(key) + 1)
  }

  /** Forgets one connection of `key`. */
  remove(key: string): void {
    const n = this.count(key) - 1
    if (n > 0) this.#counts.set(key, n)
    else this.#counts.delete(key)
  }
}

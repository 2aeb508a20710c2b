/** How long a revocation is remembered: far longer than a token check takes between its read and its session's start. */
const KEEP_MS = 5 * 60_000
/** Most revocations remembered; the oldest go first. */
const MAX_KEPT = 10_000

/**
 * The device revocations this node heard of lately, with when it heard of them, so that a session whose token was
 * checked before a revocation but which started after it can still be refused. Bounded in time and count.
 * @internal
 */
export class RecentRevocations {
  /** Insertion-ordered, so the oldest come first. */
  readonly #heard = new Map<string, number>()

  remember(userId: string, deviceId: string, now = Date.now()): void {
    const key = `${userId}\n${deviceId}`
    this.#heard.delete(key)
    this.#heard.set(key, now)
    for (const [old, at] of this.#heard) {
      if (at > now - KEEP_MS && this.#heard.size <= MAX_KEPT) break
      this.#heard.delete(old)
    }
  }

  /** Whether the device's revocation was heard of at or after `since` (ms since the epoch). */
  since(userId: string, deviceId: string, since: number): boolean {
    const at = this.#heard.get(`${userId}\n${deviceId}`)
    return at !== undefined && at >= since
  }
}

/** What the browser says of the origin's storage: see {@link CubbyStorage.estimate}. */
export interface CubbyStorageEstimate {
  /** Bytes the origin uses, where the browser says (`navigator.storage.estimate()`). */
  usage?: number
  /** Bytes the origin may use, where the browser says. */
  quota?: number
  /** Whether the browser promised not to evict the origin's storage (`navigator.storage.persisted()`). */
  persisted: boolean
}

/** The browser's storage of the origin, as `cubby.storage`. */
export interface CubbyStorage {
  /**
   * Reads the origin's usage and quota, and whether its storage is persisted.
   *
   * @example
   * ```ts
   * const { usage, quota } = await cubby.storage.estimate()
   * ```
   */
  estimate(): Promise<CubbyStorageEstimate>
  /**
   * Asks the browser to keep the origin's storage (`navigator.storage.persist()`), which protects it from eviction
   * (Safari's after seven days without a visit, any browser's under storage pressure). Call it once the user is
   * engaged (signed in, saved something): browsers may prompt or decide from engagement.
   *
   * @returns Whether the storage is persisted now; false where the browser has no StorageManager.
   * @example
   * ```ts
   * saveButton.onclick = async () => { await cubby.store('doc', doc); await cubby.storage.persist() }
   * ```
   */
  persist(): Promise<boolean>
}

const manager = (): StorageManager | undefined => (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage

/**
 * The `cubby.storage` object, over `navigator.storage` where the page has it.
 *
 * @internal
 */
export const browserStorage: CubbyStorage = {
  async estimate() {
    const storage = manager()
    const [estimate, persisted] = await Promise.all([storage?.estimate?.(), storage?.persisted?.()])
    const result: CubbyStorageEstimate = { persisted: persisted === true }
    if (estimate?.usage !== undefined) result.usage = estimate.usage
    if (estimate?.quota !== undefined) result.quota = estimate.quota
    return result
  },
  async persist() {
    return (await manager()?.persist?.()) === true
  },
}

import { CubbyError } from '@cubby/protocol/core'
import type { Cubby } from '../Cubby.js'
import type { CubbyChangeDetail, CubbyEventMap, CubbyPendingDetail } from '../CubbyEventMap.js'
import { KeysWatch } from './KeysWatch.js'
import { KeyWatch } from './KeyWatch.js'
import { StatusWatch } from './StatusWatch.js'

// A binding may hold any Cubby, whatever its schema; the hooks restore the types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCubby = Cubby<any>

const hubs = new WeakMap<AnyCubby, CubbyHub>()

/** Turns whatever a write rejected with into a CubbyError (a TypeError only comes from misuse). */
export const toCubbyError = (error: unknown): CubbyError =>
  error instanceof CubbyError ? error : new CubbyError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error })

/**
 * One Cubby's events fanned out per key, plus what the client does not keep: whether loading failed, the last
 * background error and each key's last write error. One hub per Cubby, shared by every component. It listens
 * to the Cubby only while something listens to it, so an unused hub holds nothing.
 *
 * Public for the bindings through `@cubby/client/bindings` (never tagged internal: stripInternal would drop it from
 * the published types that entry re-exports).
 */
export class CubbyHub {
  readonly cubby: AnyCubby
  readonly status: StatusWatch
  readonly #keyListeners = new Map<string, Set<() => void>>()
  readonly #changeListeners = new Set<(detail: CubbyChangeDetail) => void>()
  readonly #stateListeners = new Set<() => void>()
  readonly #keyWatches = new Map<string, KeyWatch>()
  readonly #keysWatches = new Map<string, KeysWatch>()
  readonly #errors = new Map<string, CubbyError>()
  readonly #writes = new Map<string, number>()
  #loadError: CubbyError | undefined
  #lastError: CubbyError | undefined
  #listening: AbortController | undefined

  /** The hub of `cubby`, created on first use. */
  static of(cubby: AnyCubby): CubbyHub {
    let hub = hubs.get(cubby)
    if (!hub) hubs.set(cubby, (hub = new CubbyHub(cubby)))
    return hub
  }

  private constructor(cubby: AnyCubby) {
    this.cubby = cubby
    this.status = new StatusWatch(this)
    // ready() rejects when loading fails (or the client closes first); after loading, its rejection means nothing here.
    cubby.ready().catch((error: unknown) => {
      if (this.loaded) return
      this.#loadError = toCubbyError(error)
      this.#notifyAll()
    })
  }

  /** The local cache is loaded: the client knows its user and values. */
  get loaded(): boolean {
    return this.cubby.userId !== undefined
  }

  /** Why loading failed, if it did. */
  get loadError(): CubbyError | undefined {
    return this.#loadError
  }

  /** The latest `error` event, or the load error. */
  get lastError(): CubbyError | undefined {
    return this.#lastError ?? this.#loadError
  }

  /** Why the latest write of `key` through a binding failed, or why loading failed. */
  errorOf(key: string): CubbyError | undefined {
    return this.#errors.get(key) ?? this.#loadError
  }

  /** Stores through the client and records the outcome of the latest write of `key`; never rejects. */
  async store(key: string, value: unknown): Promise<void> {
    const write = (this.#writes.get(key) ?? 0) + 1
    this.#writes.set(key, write)
    let error: CubbyError | undefined
    await this.cubby.store(key, value).catch((e: unknown) => void (error = toCubbyError(e)))
    if (this.#writes.get(key) !== write || this.#errors.get(key) === error) return
    if (error) this.#errors.set(key, error)
    else this.#errors.delete(key)
    this.#notifyKey(key)
  }

  /** The shared watch of one key (the same object while anything subscribes to it). */
  watchKey(key: string): KeyWatch {
    return this.#keyWatches.get(key) ?? new KeyWatch(this, key)
  }

  /** The shared watch of the keys under `prefix`. */
  watchKeys(prefix: string): KeysWatch {
    return this.#keysWatches.get(prefix) ?? new KeysWatch(this, prefix)
  }

  /** Calls `listener` when anything about `key` may have changed. @internal */
  onKey(key: string, watch: KeyWatch, listener: () => void): () => void {
    this.#keyWatches.set(key, watch)
    const listeners = this.#keyListeners.get(key) ?? new Set()
    this.#keyListeners.set(key, listeners.add(listener))
    return this.#track(() => {
      listeners.delete(listener)
      if (listeners.size > 0) return
      this.#keyListeners.delete(key)
      this.#keyWatches.delete(key)
    })
  }

  /** Calls `listener` with every change event. @internal */
  onChange(prefix: string, watch: KeysWatch, listener: (detail: CubbyChangeDetail) => void): () => void {
    this.#keysWatches.set(prefix, watch)
    this.#changeListeners.add(listener)
    return this.#track(() => {
      this.#changeListeners.delete(listener)
      if (this.#keysWatches.get(prefix) === watch) this.#keysWatches.delete(prefix)
    })
  }

  /** Calls `listener` when the status, the pending count, loading or an error changed. @internal */
  onState(listener: () => void): () => void {
    this.#stateListeners.add(listener)
    return this.#track(() => this.#stateListeners.delete(listener))
  }

  #track(remove: () => void): () => void {
    if (!this.#listening) this.#listen()
    let removed = false
    return () => {
      if (removed) return
      removed = true
      remove()
      if (this.#keyListeners.size + this.#changeListeners.size + this.#stateListeners.size > 0) return
      this.#listening?.abort()
      this.#listening = undefined
    }
  }

  #listen(): void {
    const controller = (this.#listening = new AbortController())
    const on = <TType extends keyof CubbyEventMap>(type: TType, listener: (event: CubbyEventMap[TType]) => void): void =>
      this.cubby.addEventListener(type, listener, { signal: controller.signal })
    on('change', ({ detail }) => this.#onChange(detail))
    on('pending', ({ detail }) => this.#onPending(detail))
    on('status', () => this.#notifyAll())
    on('error', ({ detail }) => {
      this.#lastError = detail.error
      // A write of the key the server rejected (e.g. CONFLICT) shows in that key's meta until its next write.
      if (detail.key !== undefined) {
        this.#errors.set(detail.key, detail.error)
        this.#notifyKey(detail.key)
      }
      this.#notifyState()
    })
  }

  #onChange(detail: CubbyChangeDetail): void {
    for (const key of detail.keys) this.#notifyKey(key)
    for (const listener of [...this.#changeListeners]) listener(detail)
  }

  #onPending(detail: CubbyPendingDetail): void {
    // A pending `clear` names no key but makes every key pending.
    if (detail.keys.length === 0) this.#notifyAll()
    else {
      for (const key of detail.keys) this.#notifyKey(key)
      this.#notifyState()
    }
  }

  #notifyKey(key: string): void {
    for (const listener of [...(this.#keyListeners.get(key) ?? [])]) listener()
  }

  #notifyState(): void {
    for (const listener of [...this.#stateListeners]) listener()
  }

  // Over-notifying is cheap: every watch compares its new snapshot with the last one and stays quiet when equal.
  #notifyAll(): void {
    for (const key of [...this.#keyListeners.keys()]) this.#notifyKey(key)
    this.#notifyState()
  }
}

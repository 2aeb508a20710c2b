import type { CubbyChange } from '../CubbyEventMap.js'
import { compareKeys } from '@cubby/protocol/core'
import type { CubbyHub } from './CubbyHub.js'

/** The keys snapshot before anything is known. */
export const NO_KEYS: readonly string[] = Object.freeze([])

const sameKeys = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((key, i) => key === b[i])

/**
 * The keys under a prefix, in the client's (code point) order, as `subscribe` + `getSnapshot`. The client can
 * only list keys asynchronously, so this lists once when loaded and then follows the change events; events
 * that arrive while the listing is on its way are replayed over it, so none is lost or applied twice. The
 * array keeps its identity until a key under the prefix appears or goes (value changes do not count).
 *
 * Public for the bindings through `@cubby/client/bindings` (never tagged internal: stripInternal would drop it from
 * the published types that entry re-exports).
 */
export class KeysWatch {
  readonly prefix: string
  readonly #hub: CubbyHub
  readonly #listeners = new Set<() => void>()
  #set = new Set<string>()
  #keys: readonly string[] = NO_KEYS
  /** Changes seen while a listing is on its way; undefined when none is. */
  #buffer: CubbyChange[] | undefined
  #listed = false
  #generation = 0
  #stop: (() => void) | undefined

  constructor(hub: CubbyHub, prefix: string) {
    this.#hub = hub
    this.prefix = prefix
  }

  /** Calls `listener` whenever the keys changed; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#start()
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0) this.#stop?.()
    }
  }

  /** The keys now (empty until the first listing after a subscribe is in). */
  getSnapshot = (): readonly string[] => this.#keys

  #start(): void {
    const offChange = this.#hub.onChange(this.prefix, this, ({ changes }) => this.#apply(changes))
    const offState = this.#hub.onState(() => this.#list())
    this.#stop = () => {
      offChange()
      offState()
      // Unsubscribed, the keys go stale: the next subscriber lists again (and sees these until then).
      this.#generation++
      this.#buffer = undefined
      this.#listed = false
    }
    this.#list()
  }

  #list(): void {
    if (this.#listed || !this.#hub.loaded) return
    this.#listed = true
    const generation = ++this.#generation
    this.#buffer = []
    this.#hub.cubby.list({ prefix: this.prefix }).then(
      (keys: string[]) => {
        if (generation !== this.#generation) return
        const buffered = this.#buffer ?? []
        this.#buffer = undefined
        this.#set = new Set(keys)
        this.#update(buffered)
        this.#publish()
      },
      // Only a closed client fails to list; the keys stay as they were.
      () => {},
    )
  }

  #apply(changes: readonly CubbyChange[]): void {
    const mine = changes.filter((change) => change.key.startsWith(this.prefix))
    if (mine.length === 0) return
    if (this.#buffer) this.#buffer.push(...mine)
    else if (this.#listed && this.#update(mine)) this.#publish()
  }

  /** Applies changes to the set; tells whether a key came or went. */
  #update(changes: readonly CubbyChange[]): boolean {
    let changed = false
    for (const change of changes) {
      const had = this.#set.has(change.key)
      if ('deleted' in change) this.#set.delete(change.key)
      else this.#set.add(change.key)
      changed ||= had !== this.#set.has(change.key)
    }
    return changed
  }

  #publish(): void {
    const keys = [...this.#set].sort(compareKeys)
    if (sameKeys(keys, this.#keys)) return
    this.#keys = Object.freeze(keys)
    for (const listener of [...this.#listeners]) listener()
  }
}

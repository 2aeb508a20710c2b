import { compareKeys } from '@cubby/protocol/core'

/** Options of `list` and `entries`: a page of keys in code point order. */
export interface ListOptions {
  /** Only keys that start with this. @default '' (all keys) */
  prefix?: string
  /** Only keys after this one (exclusive): pass the last key of the previous page. @default undefined (from the start) */
  after?: string
  /** At most this many keys. @default Infinity */
  limit?: number
}

/** First index in `sorted` whose key is >= `key` (or > `key` when `strict`). */
function bound(sorted: readonly string[], key: string, strict: boolean): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const c = compareKeys(sorted[mid]!, key)
    if (c < 0 || (strict && c === 0)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The keys of the view in {@link compareKeys} order. A few changes between listings are spliced in; many
 * (a catch-up, a burst of writes) drop the array, which the next listing sorts once.
 *
 * @internal
 */
export class KeyIndex {
  #sorted: string[] | undefined
  #edits = 0
  readonly #keys: () => Iterable<string>

  constructor(keys: () => Iterable<string>) {
    this.#keys = keys
  }

  /** Records that `key` entered the view. */
  added(key: string): void {
    if (this.#spliceable()) this.#sorted!.splice(bound(this.#sorted!, key, false), 0, key)
  }

  /** Records that `key` left the view. */
  removed(key: string): void {
    if (!this.#spliceable()) return
    const i = bound(this.#sorted!, key, false)
    if (this.#sorted![i] === key) this.#sorted!.splice(i, 1)
  }

  /** Lists keys, paginated as {@link ListOptions} says. */
  list({ prefix = '', after, limit = Infinity }: ListOptions = {}): string[] {
    if (typeof prefix !== 'string' || (after !== undefined && typeof after !== 'string')) {
      throw new TypeError('prefix and after must be strings')
    }
    if (!(limit >= 0)) throw new TypeError('limit must be a number >= 0')
    this.#edits = 0
    const sorted = (this.#sorted ??= [...this.#keys()].sort(compareKeys))
    let i = bound(sorted, prefix, false)
    if (after !== undefined) i = Math.max(i, bound(sorted, after, true))
    const page: string[] = []
    for (; i < sorted.length && page.length < limit; i++) {
      const key = sorted[i]!
      if (!key.startsWith(prefix)) break
      page.push(key)
    }
    return page
  }

  #spliceable(): boolean {
    if (!this.#sorted) return false
    // Splicing costs O(n) per key, sorting O(n log n) for all: past ~log n edits, sorting later is cheaper.
    if (++this.#edits > 16 + Math.log2(this.#sorted.length + 1)) this.#sorted = undefined
    return this.#sorted !== undefined
  }
}

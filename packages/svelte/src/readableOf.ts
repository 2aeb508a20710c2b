import type { Readable } from 'svelte/store'

/** What the core's watches share: a subscribable snapshot. */
export interface Watch<TSnapshot> {
  subscribe(listener: () => void): () => void
  getSnapshot(): TSnapshot
}

/**
 * A Svelte readable store over a watch: `run` gets `select(snapshot)` at once and then whenever it changes
 * (by `equal`). Without a watch (no client yet), it holds `select(fallback)` forever.
 *
 * @internal
 */
export function readableOf<TSnapshot, TValue>(
  watch: Watch<TSnapshot> | undefined,
  fallback: TSnapshot,
  select: (snapshot: TSnapshot) => TValue,
  equal: (a: TValue, b: TValue) => boolean = Object.is,
): Readable<TValue> {
  return {
    subscribe(run) {
      let last = select(watch ? watch.getSnapshot() : fallback)
      run(last)
      if (!watch) return () => {}
      return watch.subscribe(() => {
        const next = select(watch.getSnapshot())
        if (equal(last, next)) return
        last = next
        run(next)
      })
    },
  }
}

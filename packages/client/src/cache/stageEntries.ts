import type { CacheWrite, CachedEntry } from './CubbyCache.js'

/**
 * Fills a cache write's `deleteEntries` and `putEntries` from the last word per key (`null`: deleted): a cache
 * applies every delete before every put, so a key stored and then deleted must not be in both.
 *
 * @returns `write`, with the lists that are not empty.
 * @internal
 */
export function stageEntries(write: CacheWrite, staged: ReadonlyMap<string, CachedEntry | null>): CacheWrite {
  const deletes: string[] = []
  const puts: CachedEntry[] = []
  for (const [key, entry] of staged) {
    if (entry === null) deletes.push(key)
    else puts.push(entry)
  }
  if (deletes.length > 0) write.deleteEntries = deletes
  if (puts.length > 0) write.putEntries = puts
  return write
}

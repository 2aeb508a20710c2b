/** What localStorage remembers of a database, to tell an eviction between page loads from a first start. */
interface EvictionRecord {
  marker: string
  /** Outbox entries on disk at the last write this tab made. */
  pending: number
}

// localStorage is not IndexedDB: clearing only the site's IndexedDB (or Safari's eviction of it alone) leaves it.
const storage = (): Storage | undefined => {
  try {
    return (globalThis as { localStorage?: Storage }).localStorage ?? undefined
  } catch {
    // A sandboxed frame throws on access.
    return undefined
  }
}

/**
 * Reads, writes and removes the localStorage record of one database (nothing when there is no localStorage).
 *
 * @internal
 */
export const evictionRecord = {
  read(id: string): EvictionRecord | undefined {
    try {
      const parsed = JSON.parse(storage()?.getItem(id) ?? 'null') as Partial<EvictionRecord> | null
      return typeof parsed?.marker === 'string' && typeof parsed.pending === 'number' ? { marker: parsed.marker, pending: parsed.pending } : undefined
    } catch {
      return undefined
    }
  },
  write(id: string, record: EvictionRecord): void {
    try {
      storage()?.setItem(id, JSON.stringify(record))
    } catch {
      // Full or refused: the record only improves a report.
    }
  },
  remove(id: string): void {
    try {
      storage()?.removeItem(id)
    } catch {
      // As above.
    }
  },
}

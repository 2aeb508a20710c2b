/** Encodings the storage passes on every call, so a database opened with other defaults works too. */
export const UTF8 = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const

/** One operation of a {@link LevelDatabase.batch}. */
export type LevelBatchOperation = { type: 'put'; key: string; value: string } | { type: 'del'; key: string }

/** Range options of {@link LevelDatabase.iterator}. */
export interface LevelIteratorOptions {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  limit?: number
  keys?: boolean
  values?: boolean
  /** classic-level: stop a `nextv` once this many bytes are read (its default is 16 KiB); others ignore it. */
  highWaterMarkBytes?: number
  keyEncoding: 'utf8'
  valueEncoding: 'utf8'
}

/** The part of an abstract-level iterator the storage uses. */
export interface LevelIterator {
  nextv(size: number): Promise<Array<[string, string]>>
  close(): Promise<void>
}

/**
 * The part of an [abstract-level](https://github.com/Level/abstract-level) database (`level`, `classic-level`,
 * `memory-level`, ...) that Cubby uses; any of them fits.
 */
export interface LevelDatabase {
  readonly status: 'opening' | 'open' | 'closing' | 'closed'
  open(): Promise<void>
  close(): Promise<void>
  getMany(keys: string[], options: typeof UTF8): Promise<Array<string | undefined>>
  batch(operations: LevelBatchOperation[], options: typeof UTF8 & { sync: boolean }): Promise<void>
  iterator(options: LevelIteratorOptions): LevelIterator
}

/** Reads every `[key, value]` of a range, in pages. */
export async function readRange(
  db: LevelDatabase,
  options: Omit<LevelIteratorOptions, 'keyEncoding' | 'valueEncoding'>,
  onPage: (page: Array<[string, string]>) => boolean | void,
): Promise<void> {
  const it = db.iterator({ ...options, ...UTF8 })
  try {
    for (;;) {
      const page = await it.nextv(1000)
      if (page.length === 0 || onPage(page) === false) return
    }
  } finally {
    await it.close()
  }
}

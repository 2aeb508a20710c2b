import type { GroupCommitter } from './GroupCommitter.js'
import { UTF8, type LevelBatchOperation, type LevelDatabase } from './LevelDatabase.js'
import { deletionKey, parseClient, parseDeletion, parseRecord, purgeKey, revOfLogKey, userOfMetaKey, userRange } from './levelKeys.js'

/** Records looked at per step: one step is one turn of the commit loop, so other users' commits wait only that long. */
const PURGE_STEP = 1000

const TAGS = ['d', 'l', 'c'] as const

/** Where a purge of one user stands: the range it is in and the last key it looked at. */
interface PurgeCursor {
  /** The purge's rev when the cursor started: a later clear raises it, and the purge starts over. */
  rev: number
  tag: (typeof TAGS)[number]
  after: string | undefined
}

/**
 * Removes the dead records a clear or a deletion left (see `purgeKey`), in the background, one bounded step per
 * turn of the commit loop, so a purge of millions of records never holds up other users' commits nor fills the
 * memory. Every step re-reads what it removes between two batches, so it never removes a record written after
 * the clear; the purge record goes in the step that finds nothing left, and start-up resumes the others.
 * @internal
 */
export class Purger {
  readonly #db: LevelDatabase
  readonly #committer: GroupCommitter
  /** Users with a purge to run, in the order they came. */
  readonly #pending = new Set<string>()
  #running: Promise<void> | undefined

  constructor(db: LevelDatabase, committer: GroupCommitter) {
    this.#db = db
    this.#committer = committer
  }

  /** Resumes every purge the database records (after a restart, or a crash half-way). */
  async resume(): Promise<void> {
    const it = this.#db.iterator({ gte: 'p', lt: 'q', values: false, ...UTF8 })
    try {
      for (let page = await it.nextv(PURGE_STEP); page.length > 0; page = await it.nextv(PURGE_STEP)) {
        for (const [k] of page) this.schedule(userOfMetaKey(k))
      }
    } finally {
      await it.close()
    }
  }

  /** Queues a purge of the user's dead records. */
  schedule(userId: string): void {
    this.#pending.add(userId)
    this.#running ??= this.#run()
  }

  /** Resolves once every purge queued so far is done (or stopped by a close). */
  async drain(): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  /** Runs the user's purge to its end now (an import waits for it). */
  async finish(userId: string): Promise<void> {
    const cursor: PurgeCursor = { rev: 0, tag: 'd', after: undefined }
    while (await this.#committer.atRest(() => this.#step(userId, cursor)));
  }

  async #run(): Promise<void> {
    try {
      // Users scheduled meanwhile join this loop (a Set's iteration visits what is added during it).
      for (const userId of this.#pending) {
        this.#pending.delete(userId)
        await this.finish(userId)
      }
    } catch {
      // The storage closed or failed: the purge records stay, and the next start-up resumes them.
      this.#pending.clear()
    } finally {
      // In the same step as the loop's end, so no user scheduled after it is left waiting.
      this.#running = undefined
    }
  }

  /**
   * One bounded step: removes up to {@link PURGE_STEP} dead records after the cursor, and moves it on.
   * @returns whether more is left.
   */
  async #step(userId: string, cursor: PurgeCursor): Promise<boolean> {
    const [rawPurge, rawDeletion] = await this.#db.getMany([purgeKey(userId), deletionKey(userId)], UTF8)
    if (rawPurge === undefined) return false
    const purgeRev = Number(rawPurge)
    if (purgeRev !== cursor.rev) Object.assign(cursor, { rev: purgeRev, tag: 'd', after: undefined })
    const deletedHead = parseDeletion(rawDeletion)?.head ?? 0
    const range = userRange(cursor.tag, userId)
    const lower = cursor.after === undefined ? { gte: range.gte } : { gt: cursor.after }
    const it = this.#db.iterator({ ...lower, lt: range.lt, values: cursor.tag !== 'l', ...UTF8 })
    let page: Array<[string, string]>
    try {
      page = await it.nextv(PURGE_STEP)
    } finally {
      await it.close()
    }
    const dead = (k: string, raw: string): boolean => {
      switch (cursor.tag) {
        case 'd': return parseRecord(raw).rev <= purgeRev
        case 'l': return revOfLogKey(k) <= purgeRev
        case 'c': return parseClient(raw).rev <= deletedHead
      }
    }
    const operations: LevelBatchOperation[] = page.filter(([k, raw]) => dead(k, raw)).map(([key]) => ({ type: 'del', key }))
    // A page may come back short (classic-level stops at 16 KiB); only an empty one ends a range.
    const next = TAGS[TAGS.indexOf(cursor.tag) + 1]
    const done = page.length === 0 && next === undefined
    if (page.length > 0) cursor.after = page.at(-1)![0]
    else if (next !== undefined) Object.assign(cursor, { tag: next, after: undefined })
    // Not synced: a purge lost in a crash is only done again.
    if (done) operations.push({ type: 'del', key: purgeKey(userId) })
    if (operations.length > 0) await this.#db.batch(operations, { ...UTF8, sync: false })
    return !done
  }
}

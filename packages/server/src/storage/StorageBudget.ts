import { isAnonymousUser } from '../auth/anonymousUsers.js'
import { readRange, type LevelDatabase } from './LevelDatabase.js'
import { countUsageFields, parseMeta, userOfMetaKey } from './levelKeys.js'
import { countUsage } from './countUsage.js'

/**
 * The server-wide budget of stored bytes: the sum of every user's usage (as their meta records count it), loaded
 * once when the storage opens and then moved by every batch that changes a user's usage. Past `maxBytes`,
 * anonymous identities' writes that would add bytes are refused with `STORAGE_FULL`; the app's own users (ids
 * without the anonymous prefix) and writes that free space always pass. Correct only while this process is the
 * only writer of the database, which LevelDB's lock file ensures.
 * @internal
 */
export class StorageBudget {
  /** Bytes counted over all users. */
  used = 0
  readonly maxBytes: number

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }

  /** Sums every user's usage from their meta records (counting the records of a meta that has none). */
  async load(db: LevelDatabase): Promise<void> {
    let used = 0
    const uncounted: Array<[string, number]> = []
    await readRange(db, { gte: 'm', lt: 'n' }, (page) => {
      for (const [k, raw] of page) {
        const meta = parseMeta(raw)
        if (countUsageFields(meta)) used += meta.bytes
        else uncounted.push([userOfMetaKey(k), meta.clearRev])
      }
    })
    for (const [userId, clearRev] of uncounted) used += (await countUsage(db, userId, clearRev)).bytes
    this.used = used
  }

  /** Whether a write of `userId` that adds `bytes` (on top of `pending`, planned but not yet written) must be refused. */
  refuses(userId: string, bytes: number, pending: number): boolean {
    return bytes > 0 && isAnonymousUser(userId) && this.used + pending + bytes > this.maxBytes
  }
}

/** @throws TypeError unless `maxTotalBytes` is undefined or a positive integer. @internal */
export function checkMaxTotalBytes(maxTotalBytes: number | undefined): void {
  if (maxTotalBytes !== undefined && (!Number.isSafeInteger(maxTotalBytes) || maxTotalBytes < 1)) {
    throw new TypeError('maxTotalBytes must be a positive integer')
  }
}

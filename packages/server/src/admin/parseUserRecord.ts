import { CubbyError, isExpiresAt, isWellFormed, type CubbyLimits } from '@cubby/protocol'
import type { UserRecord } from '../storage/UserRecord.js'
import { validateMutation } from '../writes/validateMutation.js'

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0
const isRev = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1

/**
 * Parses one line of an import, checking it as strictly as a write: keys valid, values that decode, revs positive.
 *
 * @throws CubbyError `BAD_MESSAGE` (or the key's or value's own code) saying which line is wrong.
 */
export function parseUserRecord(line: string, lineNo: number, limits: CubbyLimits): UserRecord {
  const bad = (what: string): CubbyError => new CubbyError('BAD_MESSAGE', `Line ${lineNo}: ${what}`)
  let r: Record<string, unknown>
  try {
    r = JSON.parse(line) as Record<string, unknown>
  } catch {
    throw bad('not JSON')
  }
  if (typeof r !== 'object' || r === null) throw bad('not an object')
  switch (r.type) {
    case 'user':
      if (r.v !== 1 || typeof r.userId !== 'string' || !isCount(r.head) || !isCount(r.clearRev) || r.clearRev > r.head) throw bad('bad user line')
      return { type: 'user', v: 1, userId: r.userId, head: r.head, clearRev: r.clearRev }
    case 'value':
    case 'deleted': {
      if (!isRev(r.rev)) throw bad('rev must be a positive integer')
      if (typeof r.key !== 'string' || (r.type === 'value' && typeof r.value !== 'string')) throw bad('key and value must be strings')
      const error = r.type === 'value'
        ? validateMutation({ op: 'store', mid: 1, key: r.key, value: r.value as string }, limits)
        : validateMutation({ op: 'delete', mid: 1, key: r.key }, limits)
      if (error !== undefined) throw new CubbyError(error.code, `Line ${lineNo}: ${error.message}`)
      if (r.type === 'deleted') return { type: 'deleted', key: r.key, rev: r.rev }
      if (r.expiresAt === undefined) return { type: 'value', key: r.key, rev: r.rev, value: r.value as string }
      if (!isExpiresAt(r.expiresAt)) throw bad('expiresAt must be a positive integer (ms since the epoch)')
      return { type: 'value', key: r.key, rev: r.rev, value: r.value as string, expiresAt: r.expiresAt }
    }
    case 'client':
      if (typeof r.clientId !== 'string' || r.clientId === '' || !isWellFormed(r.clientId)) throw bad('clientId must be a non-empty, well-formed string')
      if (!isRev(r.mid) || !isRev(r.rev)) throw bad('mid and rev must be positive integers')
      return { type: 'client', clientId: r.clientId, mid: r.mid, rev: r.rev }
    default:
      throw bad(`unknown type ${JSON.stringify(String(r.type)).slice(0, 40)}`)
  }
}

/** Parses NDJSON lines into records, skipping blank lines. */
export async function* parseUserRecords(lines: AsyncIterable<string>, limits: CubbyLimits): AsyncGenerator<UserRecord> {
  let lineNo = 0
  for await (const line of lines) {
    lineNo++
    if (line.trim() === '') continue
    yield parseUserRecord(line, lineNo, limits)
  }
}

import { CubbyError, type WriteCondition } from '@cubby/protocol'
import type { Request } from 'express'

/** The strong ETag of a key's version: its revision, quoted. @internal */
export const etagOf = (rev: number): string => `"${rev}"`

/**
 * The condition of an HTTP write: `If-Match: "<version>"` (the ETag a GET answered), or `If-None-Match: *`
 * (only if the key has no value). Weak tags and lists are refused: a version is one exact revision.
 *
 * @returns `undefined` for an unconditional write.
 * @throws CubbyError `BAD_MESSAGE` for a header Cubby cannot check.
 * @internal
 */
export function httpCondition(req: Request): WriteCondition | undefined {
  const ifMatch = req.get('if-match')
  const ifNoneMatch = req.get('if-none-match')
  if (ifMatch !== undefined && ifNoneMatch !== undefined) throw new CubbyError('BAD_MESSAGE', 'Give If-Match or If-None-Match, not both')
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw new CubbyError('BAD_MESSAGE', 'If-None-Match on a write must be *')
    return { absent: true }
  }
  if (ifMatch === undefined) return undefined
  const match = /^\s*"([1-9][0-9]{0,15})"\s*$/.exec(ifMatch)
  const rev = match === null ? Number.NaN : Number(match[1])
  if (!Number.isSafeInteger(rev)) throw new CubbyError('BAD_MESSAGE', 'If-Match must be one version as its ETag gave it, e.g. "42"')
  return { rev }
}

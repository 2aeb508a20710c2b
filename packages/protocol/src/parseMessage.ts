import { CubbyError } from './CubbyError.js'
import { isJsonDeeperThan } from './codec/jsonDepth.js'
import { isCubbyErrorCode, isUnauthorizedReason } from './errorCodes.js'
import { isExpiresAt } from './expiry.js'
import { isWellFormed } from './limits.js'
import type { Change, ClientMessage, Mutation, MutationResult, ServerMessage, WireError, WriteCondition } from './messages.js'

/** Largest number of mutations in one push. */
export const MAX_MUTATIONS_PER_PUSH = 1000
/** Deepest nesting of arrays and objects in a frame: messages need 3 (values travel as encoded strings). */
const MAX_FRAME_DEPTH = 16
/** Largest client id, in characters. */
export const MAX_CLIENT_ID_LENGTH = 128
/** Largest batch id (`push.batch.id`), in characters. */
export const MAX_BATCH_ID_LENGTH = 64

type Json = Record<string, unknown>

const bad = (what: string): CubbyError => new CubbyError('BAD_MESSAGE', what)

function parseJsonObject(data: string): Json {
  let parsed: unknown
  // Checked before parsing: deep nesting is JSON.parse's slow case.
  if (isJsonDeeperThan(data, MAX_FRAME_DEPTH)) throw bad(`Frame is nested deeper than ${MAX_FRAME_DEPTH} levels`)
  try {
    parsed = JSON.parse(data)
  } catch {
    throw bad('Frame is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('Frame must be a JSON object')
  return parsed as Json
}

const isRev = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0
const isMid = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1

/** Parses a mutation's `if`: `{ rev: n }` (n ≥ 1) or `{ absent: true }`, nothing else. */
function parseCondition(c: unknown, i: number): WriteCondition {
  const { rev, absent, ...rest } = Object(c) as Json
  if (typeof c === 'object' && c !== null && Object.keys(rest).length === 0) {
    if (absent === true && rev === undefined) return { absent: true }
    if (absent === undefined && isMid(rev)) return { rev }
  }
  throw bad(`mutations[${i}].if must be { rev: <positive integer> } or { absent: true }`)
}

function parseMutation(m: unknown, i: number): Mutation {
  if (typeof m !== 'object' || m === null) throw bad(`mutations[${i}] must be an object`)
  const { op, mid, key, value, expiresAt, if: condition } = m as Json
  if (!isMid(mid)) throw bad(`mutations[${i}].mid must be a positive integer`)
  if (condition !== undefined && op === 'clear') throw bad(`mutations[${i}]: a clear takes no condition`)
  const cond = condition === undefined ? undefined : { if: parseCondition(condition, i) }
  // Key content (empty, too long) is checked per mutation by the server, so one bad key rejects one write.
  switch (op) {
    case 'store':
      if (typeof key !== 'string') throw bad(`mutations[${i}].key must be a string`)
      if (typeof value !== 'string') throw bad(`mutations[${i}].value must be an encoded value (a string)`)
      if (expiresAt === undefined) return { op, mid, key, value, ...cond }
      if (!isExpiresAt(expiresAt)) throw bad(`mutations[${i}].expiresAt must be a positive integer (ms since the epoch)`)
      return { op, mid, key, value, expiresAt, ...cond }
    case 'delete':
      if (typeof key !== 'string') throw bad(`mutations[${i}].key must be a string`)
      return { op, mid, key, ...cond }
    case 'clear':
      return { op, mid }
    default:
      throw bad(`mutations[${i}].op must be 'store', 'delete' or 'clear'`)
  }
}

/** Parses `push.batch`: `{ id, last?: true }`. */
function parseBatch(b: unknown): { id: string; last?: true } {
  const { id, last, ...rest } = Object(b) as Json
  if (typeof b !== 'object' || b === null || Object.keys(rest).length > 0 || (last !== undefined && last !== true)
    || typeof id !== 'string' || id.length === 0 || id.length > MAX_BATCH_ID_LENGTH || !isWellFormed(id)) {
    throw bad(`push.batch must be { id: <string of 1 to ${MAX_BATCH_ID_LENGTH} characters>, last?: true }`)
  }
  return last === true ? { id, last } : { id }
}

/**
 * Parses a frame from a client into a typed message, checking its shape (not yet its token, keys or values).
 *
 * @throws CubbyError `BAD_MESSAGE` saying what is wrong.
 */
export function parseClientMessage(data: string): ClientMessage {
  const msg = parseJsonObject(data)
  switch (msg.type) {
    case 'hello': {
      const { v, token, cursor, echo } = msg
      if (!Number.isSafeInteger(v)) throw bad('hello.v must be the protocol version (an integer)')
      if (typeof token !== 'string' || token.length === 0) throw bad('hello.token must be a non-empty string')
      if (!isRev(cursor)) throw bad('hello.cursor must be a non-negative integer')
      if (echo !== undefined && typeof echo !== 'boolean') throw bad('hello.echo must be a boolean')
      return echo === false ? { type: 'hello', v: v as number, token, cursor, echo } : { type: 'hello', v: v as number, token, cursor }
    }
    case 'push': {
      const { clientId, mutations } = msg
      // Well-formed, because the server keys its exactly-once records by it: stored as UTF-8, two ids with
      // different lone surrogates would both become U+FFFD and share one record.
      if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH || !isWellFormed(clientId)) {
        throw bad(`push.clientId must be a well-formed string of 1 to ${MAX_CLIENT_ID_LENGTH} characters`)
      }
      if (!Array.isArray(mutations) || mutations.length === 0 || mutations.length > MAX_MUTATIONS_PER_PUSH) {
        throw bad(`push.mutations must be an array of 1 to ${MAX_MUTATIONS_PER_PUSH} mutations`)
      }
      const parsed = mutations.map(parseMutation)
      for (let i = 1; i < parsed.length; i++) {
        if (parsed[i]!.mid <= parsed[i - 1]!.mid) throw bad('push.mutations must be in increasing mid order')
      }
      return msg.batch === undefined ? { type: 'push', clientId, mutations: parsed } : { type: 'push', clientId, mutations: parsed, batch: parseBatch(msg.batch) }
    }
    case 'ping':
      return { type: 'ping' }
    default:
      throw bad(`Unknown message type ${JSON.stringify(String(msg.type)).slice(0, 80)}`)
  }
}

function parseWireError(e: Json): WireError {
  const code = isCubbyErrorCode(e.code) ? e.code : 'INTERNAL'
  const message = typeof e.message === 'string' ? e.message : code
  return {
    code, message, ...(typeof e.retryAfter === 'number' && { retryAfter: e.retryAfter }),
    ...(isUnauthorizedReason(e.reason) && { reason: e.reason }),
    ...(isRev(e.rev) && { rev: e.rev }),
  }
}

// The client trusts the server, not the network path: a malformed frame is only named, not explained.
// Object() makes any JSON value something to destructure; what is not an object then fails the first check.

function parseChange(c: unknown): Change {
  const { rev, key, value, deleted, clear, expiresAt } = Object(c) as Json
  if (isRev(rev)) {
    if (clear === true) return { rev, clear: true }
    if (typeof key === 'string') {
      if (deleted === true) return { rev, key, deleted: true }
      // The parsed object itself when no other variant's marker is on it (readers test `'deleted' in change`):
      // no copy per change on the receive path.
      if (typeof value === 'string' && (expiresAt === undefined || isExpiresAt(expiresAt))) {
        if (deleted === undefined && clear === undefined) return c as Change
        return expiresAt === undefined ? { rev, key, value } : { rev, key, value, expiresAt }
      }
    }
  }
  throw bad('Malformed change')
}

function parseResult(r: unknown): MutationResult {
  const { mid, rev, error } = Object(r) as Json
  if (isMid(mid)) {
    if (typeof error === 'object' && error !== null) return { mid, error: parseWireError(error as Json) }
    // The parsed object itself when it carries no error (readers test `'error' in result`): no copy per write.
    if (isRev(rev)) return error === undefined ? (r as MutationResult) : { mid, rev }
  }
  throw bad('Malformed ack result')
}

/**
 * Parses a frame from the server (used by the client, which trusts the server but not the network path).
 *
 * @throws CubbyError `BAD_MESSAGE`.
 */
export function parseServerMessage(data: string): ServerMessage {
  const msg = parseJsonObject(data)
  const { type, v, userId, head, changes, rev, clientId, results, ping, now } = msg
  const malformed = (): never => {
    throw bad(`Malformed ${type as string} frame`)
  }
  switch (type) {
    case 'welcome':
      if (!Number.isSafeInteger(v) || typeof userId !== 'string' || !isRev(head)) malformed()
      return {
        type, v: v as number, userId: userId as string, head: head as number, ...(ping === true && { ping }),
        ...(isExpiresAt(now) && { now }),
      }
    case 'changes':
      if (!Array.isArray(changes) || !isRev(rev)) malformed()
      return { type, changes: (changes as unknown[]).map(parseChange), rev: rev as number }
    case 'synced':
      if (!isRev(rev)) malformed()
      return { type, rev: rev as number }
    case 'ack':
      if (typeof clientId !== 'string' || !Array.isArray(results)) malformed()
      return { type, clientId: clientId as string, results: (results as unknown[]).map(parseResult) }
    case 'error':
      return { type, ...parseWireError(msg) }
    case 'user-deleted':
    case 'pong':
      return { type }
    default:
      throw bad(`Unknown message type ${JSON.stringify(String(type)).slice(0, 80)}`)
  }
}

import { errorKind, type RedisClientRole } from './redisMetrics.js'

/** Options of {@link createRedisErrorLog}. */
export interface RedisErrorLogOptions {
  /** Least time between two lines about the same client and kind of error. @default 10_000 */
  intervalMs?: number
  /** The clock, in ms. @default Date.now */
  now?: () => number
}

/** Reports one error of one of Cubby's Redis connections (see {@link createRedisErrorLog}). */
export type RedisErrorReporter = (client: RedisClientRole, error: unknown) => void

/**
 * Turns the errors of Cubby's Redis connections into log lines that a Redis that stays down cannot flood: the
 * first error of each client and kind (connection, script, other) and code (`ECONNREFUSED`, ...) is written at
 * once, later ones at most once per interval, with how many there were since the last line. No timer is left
 * running: a count is written with the next error of its kind after the interval.
 *
 * @param write where a line goes, e.g. `(line) => console.warn(line)`.
 * @example
 * ```ts
 * const report = createRedisErrorLog((line) => console.warn(line))
 * const storage = createRedisStorage({ redis: url, onError: (e) => report('storage', e) })
 * const bus = createRedisBus({ redis: url, onError: (e) => report('bus', e) })
 * ```
 */
export function createRedisErrorLog(write: (line: string) => void, options: RedisErrorLogOptions = {}): RedisErrorReporter {
  const { intervalMs = 10_000, now = Date.now } = options
  const last = new Map<string, { at: number; count: number }>()
  return (client, error) => {
    const kind = errorKind(error)
    const code = errorCode(error)
    const id = `${client} ${kind} ${code}`
    const seen = last.get(id)
    const at = now()
    if (seen !== undefined && at - seen.at < intervalMs) {
      seen.count++
      return
    }
    last.set(id, { at, count: 0 })
    const message = error instanceof Error ? error.message : String(error)
    write(`redis error: client=${client} kind=${kind} code=${code} count=${(seen?.count ?? 0) + 1} message=${JSON.stringify(message.slice(0, 200))}`)
  }
}

/** The error's `code` (`ECONNREFUSED`, ...), or the first word of a Redis reply error (`NOSCRIPT`, `ERR`). */
function errorCode(error: unknown): string {
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown }
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code
  if (name === 'ReplyError' && typeof message === 'string') return /^[A-Z]+/.exec(message)?.[0] ?? 'ERR'
  return typeof name === 'string' && /^\w+$/.test(name) ? name : 'unknown'
}

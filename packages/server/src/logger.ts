/** Structured fields of a log line: counts, codes and reasons, never tokens, secrets, keys or values. */
export type LogFields = Readonly<Record<string, string | number | boolean>>

/** Where the server reports what it does and what went wrong. Messages never hold tokens or secrets. */
export interface CubbyLogger {
  info(message: string, fields?: LogFields): void
  warn(message: string, error?: unknown, fields?: LogFields): void
  error(message: string, error?: unknown, fields?: LogFields): void
}

const describe = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error))

const withCause = (message: string, error: unknown, fields: LogFields | undefined): string => {
  const text = error === undefined ? message : `${message}: ${describe(error)}`
  return fields === undefined ? text : `${text} ${Object.entries(fields).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`
}

/** Writes to stderr, one line per message, prefixed with `[cubby]`. */
export const consoleLogger: CubbyLogger = {
  info: (message, fields) => console.error(`[cubby] ${withCause(message, undefined, fields)}`),
  warn: (message, error, fields) => console.error(`[cubby] warning: ${withCause(message, error, fields)}`),
  error: (message, error, fields) => console.error(`[cubby] error: ${withCause(message, error, fields)}`),
}

type Level = 'info' | 'warn' | 'error'

/**
 * A logger that writes one JSON object per line (`{ time, level, msg, ...fields, error? }`) to `write`, for log
 * collectors. `error` holds the error's message and stack.
 *
 * @example
 * ```ts
 * const cubby = createCubbyServer({ dataDir, logger: createJsonLogger() })
 * ```
 */
export function createJsonLogger(write: (line: string) => void = (line) => void process.stderr.write(line)): CubbyLogger {
  const log = (level: Level, msg: string, error: unknown, fields: LogFields | undefined): void => {
    const line: Record<string, unknown> = { ...fields, time: new Date().toISOString(), level, msg }
    if (error !== undefined) line.error = describe(error)
    write(`${JSON.stringify(line)}\n`)
  }
  return {
    info: (message, fields) => log('info', message, undefined, fields),
    warn: (message, error, fields) => log('warn', message, error, fields),
    error: (message, error, fields) => log('error', message, error, fields),
  }
}

/** Drops everything (for tests). */
export const silentLogger: CubbyLogger = { info: () => {}, warn: () => {}, error: () => {} }

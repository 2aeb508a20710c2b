/** Where the server reports what it does and what went wrong. Messages never hold tokens or secrets. */
export interface CubbyLogger {
  info(message: string): void
  warn(message: string, error?: unknown): void
  error(message: string, error?: unknown): void
}

const withCause = (message: string, error: unknown): string =>
  error === undefined ? message : `${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`

/** Writes to stderr, one line per message, prefixed with `[cubby]`. */
export const consoleLogger: CubbyLogger = {
  info: (message) => console.error(`[cubby] ${message}`),
  warn: (message, error) => console.error(`[cubby] warning: ${withCause(message, error)}`),
  error: (message, error) => console.error(`[cubby] error: ${withCause(message, error)}`),
}

/** Drops everything (for tests). */
export const silentLogger: CubbyLogger = { info: () => {}, warn: () => {}, error: () => {} }

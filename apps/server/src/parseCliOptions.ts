import { parseArgs } from 'node:util'
import type { CubbyLimits } from '@cubby/protocol'

/** What `cubby-server` was asked to do. */
export type CliCommand = { help: true } | ({ help: false } & CliOptions)

/** Settings of a `cubby-server` run, from flags and environment. */
export interface CliOptions {
  host: string
  port: number
  dataDir: string
  /** From `CUBBY_SECRET` only (never a flag, so it stays out of `ps`). */
  secret: string | undefined
  staticDir: string | undefined
  limits: Partial<CubbyLimits>
}

/** A command line that cannot be used; the CLI prints the message and exits with code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
}

/** The `--help` text. */
export const USAGE: string = `Usage: cubby-server [options]

Options (each also read from the environment variable shown; flags win):
  --host HOST               address to listen on            CUBBY_HOST               (default 127.0.0.1)
  --port PORT               port, 0 picks a free one        CUBBY_PORT               (default 8080)
  --data-dir DIR            LevelDB and generated secret    CUBBY_DATA_DIR           (default ./cubby-data)
  --max-value-bytes N       largest encoded value           CUBBY_MAX_VALUE_BYTES    (default 1048576)
  --max-key-bytes N         largest key, UTF-8 bytes        CUBBY_MAX_KEY_BYTES      (default 1024)
  --max-message-bytes N     largest frame or HTTP body      CUBBY_MAX_MESSAGE_BYTES  (default 4194304)
  --static DIR              serve a built SPA at /          CUBBY_STATIC
  --help                    show this text

The token secret comes from CUBBY_SECRET, else from <data-dir>/secret (created on first start).
`

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  'max-value-bytes': { type: 'string' },
  'max-key-bytes': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  static: { type: 'string' },
  help: { type: 'boolean' },
} as const

const LIMIT_FLAGS = [
  ['max-value-bytes', 'CUBBY_MAX_VALUE_BYTES', 'maxValueBytes'],
  ['max-key-bytes', 'CUBBY_MAX_KEY_BYTES', 'maxKeyBytes'],
  ['max-message-bytes', 'CUBBY_MAX_MESSAGE_BYTES', 'maxMessageBytes'],
] as const

function integer(name: string, raw: string, min: number, max: number): number {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new CliUsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  return n
}

/** An environment variable, where an empty one counts as unset (as shells often leave them). */
const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value)

function checkFlagValues(values: Record<string, string | boolean | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === '') throw new CliUsageError(`--${name} needs a value`)
  }
}

/**
 * Reads the command line and the environment into a {@link CliCommand}; flags win over environment variables.
 *
 * @throws CliUsageError for unknown flags, missing values or values out of range.
 */
export function parseCliOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
  let values: { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean : string }
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error))
  }
  if (values.help === true) return { help: true }
  checkFlagValues(values)
  const limits: Partial<CubbyLimits> = {}
  for (const [flag, variable, field] of LIMIT_FLAGS) {
    const raw = values[flag] ?? nonEmpty(env[variable])
    if (raw !== undefined) limits[field] = integer(`--${flag}`, raw, 1, Number.MAX_SAFE_INTEGER)
  }
  const port = values.port ?? nonEmpty(env.CUBBY_PORT)
  return {
    help: false,
    host: values.host ?? nonEmpty(env.CUBBY_HOST) ?? '127.0.0.1',
    port: port === undefined ? 8080 : integer('--port', port, 0, 65535),
    dataDir: values['data-dir'] ?? nonEmpty(env.CUBBY_DATA_DIR) ?? './cubby-data',
    secret: nonEmpty(env.CUBBY_SECRET),
    staticDir: values.static ?? nonEmpty(env.CUBBY_STATIC),
    limits,
  }
}

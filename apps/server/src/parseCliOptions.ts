import { parseArgs } from 'node:util'
import type { CubbyLimits } from '@cubby/protocol'
import type { CubbyServerOptions } from '@cubby/server'

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
  /** Port of `GET /metrics` without a credential; `undefined`: none (the main port's `/metrics` needs the admin credential). */
  metricsPort: number | undefined
  metricsHost: string
  /** `text`: `[cubby] ...` lines; `json`: one JSON object per line. */
  logFormat: 'text' | 'json'
  /** Abuse limits, origins and token claims, as given (the server fills in the defaults). */
  server: CliServerOptions
  /** Storage and fan-out on Redis instead of the data dir (several nodes on one Redis). */
  redis: CliRedisOptions | undefined
  /** A file whose first line is the token secret and further lines previous secrets (`--secret-file`). */
  secretFile: string | undefined
  /** A file holding the admin credential (`--admin-token-file`). */
  adminTokenFile: string | undefined
}

/** Where the Redis of a multi-node setup is: one `redis-server` (`url`) or a Cluster's startup nodes. */
interface CliRedisOptions {
  url: string | undefined
  cluster: Array<{ host: string; port: number }> | undefined
  /** Prefix of every key and channel. */
  prefix: string
}

/** The server options the CLI sets from flags. */
type CliServerOptions = Pick<CubbyServerOptions,
  'quota' | 'maxIndexedKeys' | 'rateLimits' | 'maxConnectionsPerUser' | 'maxConnectionsPerAddress' | 'maxSendBufferBytes' | 'allowedOrigins' |
  'maxHelloBytes' | 'sendTimeoutMs' | 'heartbeatMs' | 'maxInboundBytes' | 'maxOutboundBytes' | 'maxConnections' |
  'trustProxy' | 'issuer' | 'audience' | 'adminToken' | 'previousSecrets' | 'maxTotalBytes' | 'pruneAnonymousAfterDays' |
  'anonymousIdentities' | 'publicOrigins' | 'anonymousTokenTtlSeconds' | 'tokenTtlSeconds'>

/** A command line that cannot be used; the CLI prints the message and exits with code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
}

/** The `--help` text. */
export const USAGE: string = `Usage: cubby-server [options]
       cubby-server users list | export <id> [--out FILE] | import <id> [--in FILE] | delete <id>
                          | prune --anonymous-unused-days N   [--data-dir DIR]

Options (each also read from the environment variable shown; flags win):
  --host HOST               address to listen on            CUBBY_HOST               (default 127.0.0.1)
  --port PORT               port, 0 picks a free one        CUBBY_PORT               (default 8080)
  --data-dir DIR            LevelDB and generated secret    CUBBY_DATA_DIR           (default ./cubby-data)
  --max-value-bytes N       largest encoded value           CUBBY_MAX_VALUE_BYTES    (default 1048576)
  --max-key-bytes N         largest key, UTF-8 bytes        CUBBY_MAX_KEY_BYTES      (default 1024)
  --max-message-bytes N     largest frame or HTTP body      CUBBY_MAX_MESSAGE_BYTES  (default 4194304)
  --static DIR              serve a built SPA at /          CUBBY_STATIC
  --log-format FORMAT       text, or json (one object a line: time, level, msg, fields)
                                                            CUBBY_LOG_FORMAT         (default text)

Metrics (Prometheus text at GET /metrics; on the main port it needs the admin credential):
  --metrics-port PORT       a port serving only /metrics, without a credential
                                                            CUBBY_METRICS_PORT       (default: none)
  --metrics-host HOST       address of the metrics port     CUBBY_METRICS_HOST       (default 127.0.0.1)
  --max-indexed-keys N      keys whose rev and size the write path keeps in memory (about 130 B each; 0: none)
                                                            CUBBY_MAX_INDEXED_KEYS   (default 250000)

Abuse limits:
  --max-user-bytes N        per-user quota of stored bytes  CUBBY_MAX_USER_BYTES     (default 104857600)
  --max-user-keys N         per-user quota of keys          CUBBY_MAX_USER_KEYS      (default 100000)
  --max-total-bytes N       bytes of all users together; past it, anonymous identities' growing writes get
                            STORAGE_FULL (507)              CUBBY_MAX_TOTAL_BYTES    (default: no limit)
  --prune-anonymous-after-days N  delete anonymous identities that have not written for N days (checked hourly)
                                                            CUBBY_PRUNE_ANONYMOUS_AFTER_DAYS (default: never)
  --rate-per-connection N   frames/requests per second      CUBBY_RATE_PER_CONNECTION  (default 1000)
  --burst-per-connection N  ... at once after a pause       CUBBY_BURST_PER_CONNECTION (default 20000)
  --rate-per-address N      per second from one address     CUBBY_RATE_PER_ADDRESS     (default 5000)
  --burst-per-address N     ... at once after a pause       CUBBY_BURST_PER_ADDRESS    (default 50000)
  --identities-per-minute N new anonymous identities per minute from one address
                                                            CUBBY_IDENTITIES_PER_MINUTE (default 10)
  --identity-burst N        ... at once after a pause       CUBBY_IDENTITY_BURST       (default 20)
  --max-connections-per-user N     sync sockets per user    CUBBY_MAX_CONNECTIONS_PER_USER    (default 100)
  --max-connections-per-address N  sync sockets per address CUBBY_MAX_CONNECTIONS_PER_ADDRESS (default 5000)
  --max-send-buffer-bytes N        unread bytes before a client is cut
                                                            CUBBY_MAX_SEND_BUFFER_BYTES (default 4 x max-message-bytes)
  --send-timeout-ms N       cut a client none of whose unsent bytes got written for this long
                                                            CUBBY_SEND_TIMEOUT_MS    (default 20000)
  --heartbeat-ms N          ping every sync socket this often; cut one that did not answer the last ping
                                                            CUBBY_HEARTBEAT_MS       (default 30000)
  --max-hello-bytes N       bytes a sync socket may send before its hello  CUBBY_MAX_HELLO_BYTES (default 65536)
  --max-inbound-bytes N     server-wide bytes of frames partly received    CUBBY_MAX_INBOUND_BYTES  (default 268435456)
  --max-outbound-bytes N    server-wide bytes waiting to be sent           CUBBY_MAX_OUTBOUND_BYTES (default 536870912)
  --max-connections N       TCP connections, HTTP and WebSocket together   CUBBY_MAX_CONNECTIONS    (default 10000,
                            lowered to the open-file limit minus a reserve for the database)
  --allowed-origins LIST    browser origins besides the server's own, comma-separated: https://app.example.com,
                            http://localhost:* or *       CUBBY_ALLOWED_ORIGINS
                            (default http://localhost:*,http://127.0.0.1:*,http://[::1]:*)
  --trust-proxy             take the client address from X-Forwarded-For  CUBBY_TRUST_PROXY=1

Several nodes on one Redis (no data dir; every node started alike serves any user):
  --redis URL               redis-server to keep data in and fan out through   CUBBY_REDIS  (e.g. redis://127.0.0.1:6379)
  --redis-cluster LIST      Redis Cluster startup nodes, host:port,host:port    CUBBY_REDIS_CLUSTER
  --redis-prefix PREFIX     prefix of keys and channels    CUBBY_REDIS_PREFIX       (default cubby:)
  --secret-file PATH        token secret (first line; later lines: previous secrets)
  --admin-token-file PATH   admin credential
  With Redis a secret is required (CUBBY_SECRET or --secret-file), so that every node checks the same tokens.

Tokens:
  --token-issuer ISS        set and require this JWT iss    CUBBY_TOKEN_ISSUER
  --token-audience AUD      set and require this JWT aud    CUBBY_TOKEN_AUDIENCE
  --public-origin LIST      origins clients reach this deployment under, comma-separated (https://sync.example.com);
                            a device token's aud must be one of them      CUBBY_PUBLIC_ORIGIN
                            (default: the origin of the request's Host header; set it in production)
  --anonymous-token-ttl S   seconds a POST /v1/identities token lives; renew with POST /v1/tokens/refresh
                                                            CUBBY_ANONYMOUS_TOKEN_TTL (default: 604800, 7 days)
  --token-ttl S             seconds a token of issueToken lives        CUBBY_TOKEN_TTL (default: no expiry)
  --no-anonymous            refuse anonymous users: no POST /v1/identities, no self-certified device tokens
                                                            CUBBY_ANONYMOUS=0

  --help                    show this text

The token secret comes from CUBBY_SECRET, else from <data-dir>/secret (created on first start, mode 0600);
CUBBY_PREVIOUS_SECRETS (comma-separated) are still accepted during a rotation. SIGHUP re-reads the secret
file (first line signs, later lines still verify) without a restart; CUBBY_SECRET cannot change. The admin credential
(Authorization: Bearer for /v1/admin) comes from CUBBY_ADMIN_TOKEN, else from <data-dir>/admin-token
(created on first start, mode 0600). Secrets are only read from the environment or files, never from flags.
`

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  'max-value-bytes': { type: 'string' },
  'max-key-bytes': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  static: { type: 'string' },
  'log-format': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'max-user-bytes': { type: 'string' },
  'max-user-keys': { type: 'string' },
  'max-total-bytes': { type: 'string' },
  'prune-anonymous-after-days': { type: 'string' },
  'max-indexed-keys': { type: 'string' },
  'rate-per-connection': { type: 'string' },
  'burst-per-connection': { type: 'string' },
  'rate-per-address': { type: 'string' },
  'burst-per-address': { type: 'string' },
  'identities-per-minute': { type: 'string' },
  'identity-burst': { type: 'string' },
  'max-connections-per-user': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'max-send-buffer-bytes': { type: 'string' },
  'send-timeout-ms': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'max-hello-bytes': { type: 'string' },
  'max-inbound-bytes': { type: 'string' },
  'max-outbound-bytes': { type: 'string' },
  'max-connections': { type: 'string' },
  'allowed-origins': { type: 'string' },
  'trust-proxy': { type: 'boolean' },
  'token-issuer': { type: 'string' },
  'token-audience': { type: 'string' },
  'public-origin': { type: 'string' },
  'no-anonymous': { type: 'boolean' },
  'anonymous-token-ttl': { type: 'string' },
  'token-ttl': { type: 'string' },
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'redis-prefix': { type: 'string' },
  'secret-file': { type: 'string' },
  'admin-token-file': { type: 'string' },
  help: { type: 'boolean' },
} as const

type Values = { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean : string }

const LIMIT_FLAGS = [
  ['max-value-bytes', 'CUBBY_MAX_VALUE_BYTES', 'maxValueBytes'],
  ['max-key-bytes', 'CUBBY_MAX_KEY_BYTES', 'maxKeyBytes'],
  ['max-message-bytes', 'CUBBY_MAX_MESSAGE_BYTES', 'maxMessageBytes'],
] as const

function positiveNumber(name: string, raw: string): number {
  const n = /^\d*\.?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!(n > 0) || !Number.isFinite(n)) throw new CliUsageError(`${name} must be a positive number, got ${JSON.stringify(raw)}`)
  return n
}

function integer(name: string, raw: string, min: number, max: number): number {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new CliUsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  return n
}

/** An environment variable, where an empty one counts as unset (as shells often leave them). */
const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value)

/** A setting from its flag, else its environment variable, with the name to blame in an error. */
function setting(values: Values, flag: keyof Values, env: Readonly<Record<string, string | undefined>>, variable: string): { raw: string; name: string } | undefined {
  const given = values[flag]
  if (typeof given === 'string') return { raw: given, name: `--${flag}` }
  const raw = nonEmpty(env[variable])
  return raw === undefined ? undefined : { raw, name: variable }
}

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
  let values: Values
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error))
  }
  if (values.help === true) return { help: true }
  checkFlagValues(values)
  const limits: Partial<CubbyLimits> = {}
  for (const [flag, variable, field] of LIMIT_FLAGS) {
    const given = setting(values, flag, env, variable)
    if (given !== undefined) limits[field] = integer(given.name, given.raw, 1, Number.MAX_SAFE_INTEGER)
  }
  const port = setting(values, 'port', env, 'CUBBY_PORT')
  const metricsPort = setting(values, 'metrics-port', env, 'CUBBY_METRICS_PORT')
  const logFormat = setting(values, 'log-format', env, 'CUBBY_LOG_FORMAT')
  if (logFormat !== undefined && logFormat.raw !== 'text' && logFormat.raw !== 'json') {
    throw new CliUsageError(`${logFormat.name} must be text or json, got ${JSON.stringify(logFormat.raw)}`)
  }
  const redis = parseRedisOptions(values, env)
  const secret = nonEmpty(env.CUBBY_SECRET)
  const secretFile = values['secret-file']
  if (redis !== undefined && secret === undefined && secretFile === undefined) {
    throw new CliUsageError('--redis and --redis-cluster need CUBBY_SECRET or --secret-file: nodes with random secrets would refuse each other\'s tokens')
  }
  return {
    redis, secretFile, adminTokenFile: values['admin-token-file'],
    help: false,
    host: values.host ?? nonEmpty(env.CUBBY_HOST) ?? '127.0.0.1',
    port: port === undefined ? 8080 : integer(port.name, port.raw, 0, 65535),
    dataDir: values['data-dir'] ?? nonEmpty(env.CUBBY_DATA_DIR) ?? './cubby-data',
    secret,
    staticDir: values.static ?? nonEmpty(env.CUBBY_STATIC),
    metricsPort: metricsPort === undefined ? undefined : integer(metricsPort.name, metricsPort.raw, 0, 65535),
    metricsHost: values['metrics-host'] ?? nonEmpty(env.CUBBY_METRICS_HOST) ?? '127.0.0.1',
    logFormat: logFormat?.raw === 'json' ? 'json' : 'text',
    limits,
    server: parseServerOptions(values, env),
  }
}

function parseRedisOptions(values: Values, env: Readonly<Record<string, string | undefined>>): CliRedisOptions | undefined {
  const url = values.redis ?? nonEmpty(env.CUBBY_REDIS)
  const list = values['redis-cluster'] ?? nonEmpty(env.CUBBY_REDIS_CLUSTER)
  const prefix = values['redis-prefix'] ?? nonEmpty(env.CUBBY_REDIS_PREFIX) ?? 'cubby:'
  if (url !== undefined && list !== undefined) throw new CliUsageError('give --redis or --redis-cluster, not both')
  if (url !== undefined && !/^rediss?:\/\//.test(url)) throw new CliUsageError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`)
  if (/[{}]/.test(prefix)) throw new CliUsageError('--redis-prefix must not contain { or }')
  if (url === undefined && list === undefined) return undefined
  const cluster = list?.split(',').map((node) => {
    const match = /^\s*(\[[^\]]+\]|[^:\s]+):(\d+)\s*$/.exec(node)
    if (match === null) throw new CliUsageError(`--redis-cluster takes host:port,host:port,...; got ${JSON.stringify(node)}`)
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port: integer('--redis-cluster port', match[2]!, 1, 65535) }
  })
  return { url, cluster, prefix }
}

/** Positive integer flags of the abuse limits: flag, environment variable, where the value goes. */
const ABUSE_FLAGS: ReadonlyArray<readonly [keyof Values, string, (o: Required<CliServerOptions>, n: number) => void, 'rate'?]> = [
  ['max-user-bytes', 'CUBBY_MAX_USER_BYTES', (o, n) => void (o.quota.maxBytes = n)],
  ['max-user-keys', 'CUBBY_MAX_USER_KEYS', (o, n) => void (o.quota.maxKeys = n)],
  ['max-total-bytes', 'CUBBY_MAX_TOTAL_BYTES', (o, n) => void (o.maxTotalBytes = n)],
  ['prune-anonymous-after-days', 'CUBBY_PRUNE_ANONYMOUS_AFTER_DAYS', (o, n) => void (o.pruneAnonymousAfterDays = n), 'rate'],
  ['rate-per-connection', 'CUBBY_RATE_PER_CONNECTION', (o, n) => void (o.rateLimits.connection = { ...o.rateLimits.connection, perSecond: n }), 'rate'],
  ['burst-per-connection', 'CUBBY_BURST_PER_CONNECTION', (o, n) => void (o.rateLimits.connection = { ...o.rateLimits.connection, burst: n })],
  ['rate-per-address', 'CUBBY_RATE_PER_ADDRESS', (o, n) => void (o.rateLimits.address = { ...o.rateLimits.address, perSecond: n }), 'rate'],
  ['burst-per-address', 'CUBBY_BURST_PER_ADDRESS', (o, n) => void (o.rateLimits.address = { ...o.rateLimits.address, burst: n })],
  ['identities-per-minute', 'CUBBY_IDENTITIES_PER_MINUTE', (o, n) => void (o.rateLimits.identity = { ...o.rateLimits.identity, perSecond: n / 60 }), 'rate'],
  ['identity-burst', 'CUBBY_IDENTITY_BURST', (o, n) => void (o.rateLimits.identity = { ...o.rateLimits.identity, burst: n })],
  ['max-connections-per-user', 'CUBBY_MAX_CONNECTIONS_PER_USER', (o, n) => void (o.maxConnectionsPerUser = n)],
  ['max-connections-per-address', 'CUBBY_MAX_CONNECTIONS_PER_ADDRESS', (o, n) => void (o.maxConnectionsPerAddress = n)],
  ['max-send-buffer-bytes', 'CUBBY_MAX_SEND_BUFFER_BYTES', (o, n) => void (o.maxSendBufferBytes = n)],
  ['send-timeout-ms', 'CUBBY_SEND_TIMEOUT_MS', (o, n) => void (o.sendTimeoutMs = n)],
  ['heartbeat-ms', 'CUBBY_HEARTBEAT_MS', (o, n) => void (o.heartbeatMs = n)],
  ['max-hello-bytes', 'CUBBY_MAX_HELLO_BYTES', (o, n) => void (o.maxHelloBytes = n)],
  ['max-inbound-bytes', 'CUBBY_MAX_INBOUND_BYTES', (o, n) => void (o.maxInboundBytes = n)],
  ['max-outbound-bytes', 'CUBBY_MAX_OUTBOUND_BYTES', (o, n) => void (o.maxOutboundBytes = n)],
  ['max-connections', 'CUBBY_MAX_CONNECTIONS', (o, n) => void (o.maxConnections = n)],
  ['anonymous-token-ttl', 'CUBBY_ANONYMOUS_TOKEN_TTL', (o, n) => void (o.anonymousTokenTtlSeconds = n)],
  ['token-ttl', 'CUBBY_TOKEN_TTL', (o, n) => void (o.tokenTtlSeconds = n)],
]

function parseServerOptions(values: Values, env: Readonly<Record<string, string | undefined>>): CliServerOptions {
  const all = { quota: {}, rateLimits: {} } as Required<CliServerOptions>
  for (const [flag, variable, set, kind] of ABUSE_FLAGS) {
    const given = setting(values, flag, env, variable)
    if (given === undefined) continue
    set(all, kind === 'rate' ? positiveNumber(given.name, given.raw) : integer(given.name, given.raw, 1, Number.MAX_SAFE_INTEGER))
  }
  const options: CliServerOptions = {}
  if (Object.keys(all.quota).length > 0) options.quota = all.quota
  if (Object.keys(all.rateLimits).length > 0) options.rateLimits = all.rateLimits
  const counts = ['maxConnectionsPerUser', 'maxConnectionsPerAddress', 'maxSendBufferBytes', 'sendTimeoutMs', 'heartbeatMs', 'maxHelloBytes',
    'maxInboundBytes', 'maxOutboundBytes', 'maxConnections', 'maxTotalBytes', 'pruneAnonymousAfterDays', 'anonymousTokenTtlSeconds', 'tokenTtlSeconds'] as const
  for (const name of counts) {
    if (all[name] !== undefined) options[name] = all[name]
  }
  const indexed = setting(values, 'max-indexed-keys', env, 'CUBBY_MAX_INDEXED_KEYS')
  if (indexed !== undefined) options.maxIndexedKeys = integer(indexed.name, indexed.raw, 0, Number.MAX_SAFE_INTEGER)
  const origins = values['allowed-origins'] ?? nonEmpty(env.CUBBY_ALLOWED_ORIGINS)
  if (origins !== undefined) options.allowedOrigins = origins.split(',').map((o) => o.trim()).filter((o) => o !== '')
  if (values['trust-proxy'] === true || /^(1|true|yes)$/i.test(env.CUBBY_TRUST_PROXY ?? '')) options.trustProxy = true
  const issuer = values['token-issuer'] ?? nonEmpty(env.CUBBY_TOKEN_ISSUER)
  const audience = values['token-audience'] ?? nonEmpty(env.CUBBY_TOKEN_AUDIENCE)
  if (issuer !== undefined) options.issuer = issuer
  if (audience !== undefined) options.audience = audience
  const publicOrigins = values['public-origin'] ?? nonEmpty(env.CUBBY_PUBLIC_ORIGIN)
  if (publicOrigins !== undefined) options.publicOrigins = publicOrigins.split(',').map((o) => o.trim()).filter((o) => o !== '')
  if (values['no-anonymous'] === true || /^(0|false|no)$/i.test(env.CUBBY_ANONYMOUS ?? '')) options.anonymousIdentities = false
  const adminToken = nonEmpty(env.CUBBY_ADMIN_TOKEN)
  if (adminToken !== undefined) options.adminToken = adminToken
  const previous = nonEmpty(env.CUBBY_PREVIOUS_SECRETS)?.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (previous !== undefined && previous.length > 0) options.previousSecrets = previous
  return options
}

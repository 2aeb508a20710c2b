import { describe, expect, it } from 'vitest'
import { CliUsageError, parseCliOptions } from './parseCliOptions.js'

describe('parseCliOptions', () => {
  it('uses the defaults with no flags and no environment', () => {
    expect(parseCliOptions([], {})).toEqual({
      help: false, host: '127.0.0.1', port: 8080, dataDir: './cubby-data', secret: undefined, staticDir: undefined, metricsPort: undefined, metricsHost: '127.0.0.1', logFormat: 'text', limits: {}, server: {},
    })
  })

  it('reads every flag', () => {
    const argv = ['--host', '0.0.0.0', '--port=0', '--data-dir', '/data', '--max-value-bytes', '10', '--max-key-bytes', '20', '--max-message-bytes', '30', '--static', 'dist']
    expect(parseCliOptions(argv, {})).toEqual({
      help: false, host: '0.0.0.0', port: 0, dataDir: '/data', secret: undefined, staticDir: 'dist',
      metricsPort: undefined, metricsHost: '127.0.0.1', logFormat: 'text', limits: { maxValueBytes: 10, maxKeyBytes: 20, maxMessageBytes: 30 }, server: {},
    })
  })

  it('reads the environment, and flags win over it', () => {
    const env = { CUBBY_HOST: '::1', CUBBY_PORT: '9000', CUBBY_DATA_DIR: '/env', CUBBY_SECRET: 's', CUBBY_MAX_KEY_BYTES: '5', CUBBY_STATIC: 'www', CUBBY_MAX_VALUE_BYTES: '' }
    expect(parseCliOptions(['--port', '9001'], env)).toEqual({
      help: false, host: '::1', port: 9001, dataDir: '/env', secret: 's', staticDir: 'www',
      metricsPort: undefined, metricsHost: '127.0.0.1', logFormat: 'text', limits: { maxKeyBytes: 5 }, server: {},
    })
  })

  it('reads the public origins of device tokens and turns anonymous users off, from flags or the environment', () => {
    expect(parseCliOptions(['--public-origin', 'https://a.example, https://b.example', '--no-anonymous'], {}))
      .toMatchObject({ server: { publicOrigins: ['https://a.example', 'https://b.example'], anonymousIdentities: false } })
    expect(parseCliOptions([], { CUBBY_PUBLIC_ORIGIN: 'https://a.example', CUBBY_ANONYMOUS: 'false' }))
      .toMatchObject({ server: { publicOrigins: ['https://a.example'], anonymousIdentities: false } })
    expect(parseCliOptions([], { CUBBY_ANONYMOUS: '1' })).toMatchObject({ server: {} })
    expect(parseCliOptions([], { CUBBY_ANONYMOUS: '1' })).not.toHaveProperty('server.anonymousIdentities')
    expect(parseCliOptions(['--anonymous-token-ttl', '3600'], { CUBBY_TOKEN_TTL: '600' }))
      .toMatchObject({ server: { anonymousTokenTtlSeconds: 3600, tokenTtlSeconds: 600 } })
    expect(() => parseCliOptions(['--token-ttl', '0'], {})).toThrow(CliUsageError)
  })

  it('reads the metrics port and the log format, and refuses an unknown format', () => {
    expect(parseCliOptions(['--metrics-port', '9100', '--log-format', 'json'], {})).toMatchObject({ metricsPort: 9100, metricsHost: '127.0.0.1', logFormat: 'json' })
    const env = { CUBBY_METRICS_PORT: '9101', CUBBY_METRICS_HOST: '10.0.0.5', CUBBY_LOG_FORMAT: 'json' }
    expect(parseCliOptions([], env)).toMatchObject({ metricsPort: 9101, metricsHost: '10.0.0.5', logFormat: 'json' })
    expect(parseCliOptions(['--log-format', 'text', '--metrics-host', '::1'], env)).toMatchObject({ metricsHost: '::1', logFormat: 'text' })
    expect(() => parseCliOptions(['--log-format', 'xml'], {})).toThrow(CliUsageError)
    expect(() => parseCliOptions(['--metrics-port', '70000'], {})).toThrow(CliUsageError)
  })

  it('reads the abuse limits, origins and token claims from flags and environment', () => {
    const argv = [
      '--max-user-bytes', '1000', '--max-user-keys', '10', '--rate-per-connection', '0.5', '--burst-per-address', '7',
      '--max-connections-per-user', '2', '--max-connections-per-address', '3', '--max-send-buffer-bytes', '4096',
      '--allowed-origins', 'https://app.example.com, http://localhost:*', '--trust-proxy', '--token-issuer', 'iss',
    ]
    expect(parseCliOptions(argv, { CUBBY_BURST_PER_CONNECTION: '9', CUBBY_TOKEN_AUDIENCE: 'aud' })).toHaveProperty('server', {
      quota: { maxBytes: 1000, maxKeys: 10 },
      rateLimits: { connection: { perSecond: 0.5, burst: 9 }, address: { burst: 7 } },
      maxConnectionsPerUser: 2, maxConnectionsPerAddress: 3, maxSendBufferBytes: 4096,
      allowedOrigins: ['https://app.example.com', 'http://localhost:*'], trustProxy: true, issuer: 'iss', audience: 'aud',
    })
    expect(() => parseCliOptions(['--max-user-keys', '0'], {})).toThrow(CliUsageError)
    expect(parseCliOptions(['--max-indexed-keys', '0'], {})).toHaveProperty('server', { maxIndexedKeys: 0 })
    expect(parseCliOptions([], { CUBBY_MAX_INDEXED_KEYS: '5000' })).toHaveProperty('server', { maxIndexedKeys: 5000 })
    expect(parseCliOptions(['--heartbeat-ms', '600000'], {})).toHaveProperty('server', { heartbeatMs: 600_000 })
    expect(parseCliOptions([], { CUBBY_HEARTBEAT_MS: '5000' })).toHaveProperty('server', { heartbeatMs: 5000 })
    expect(() => parseCliOptions(['--heartbeat-ms', '0'], {})).toThrow(CliUsageError)
    expect(() => parseCliOptions(['--max-indexed-keys', '-1'], {})).toThrow(CliUsageError)
    expect(() => parseCliOptions(['--rate-per-address', '0'], {})).toThrow(CliUsageError)
    expect(() => parseCliOptions(['--rate-per-address', '1e3'], {})).toThrow(CliUsageError)
  })

  it('asks for help', () => {
    expect(parseCliOptions(['--help'], {})).toEqual({ help: true })
  })

  it.each([
    [['--bogus']], [['--port']], [['--port', 'abc']], [['--port', '70000']], [['--port', '-1']], [['--max-value-bytes', '0']],
    [['--max-key-bytes', '1.5']], [['--host', '']], [['positional']], [['--secret', 'x']],
  ])('rejects %j with a usage error', (argv) => {
    expect(() => parseCliOptions(argv, {})).toThrow(CliUsageError)
  })

  it('rejects a bad port in the environment, naming the variable', () => {
    expect(() => parseCliOptions([], { CUBBY_PORT: 'http' })).toThrow('CUBBY_PORT must be an integer from 0 to 65535, got "http"')
    expect(() => parseCliOptions(['--port', 'http'], { CUBBY_PORT: '1' })).toThrow('--port must be')
    expect(() => parseCliOptions([], { CUBBY_RATE_PER_ADDRESS: 'x' })).toThrow('CUBBY_RATE_PER_ADDRESS must be')
    expect(() => parseCliOptions([], { CUBBY_MAX_INDEXED_KEYS: '-1' })).toThrow('CUBBY_MAX_INDEXED_KEYS must be')
  })

  it('reads the storage budget and the pruning period', () => {
    expect(parseCliOptions(['--max-total-bytes', '5000', '--prune-anonymous-after-days', '0.5'], {}))
      .toHaveProperty('server', { maxTotalBytes: 5000, pruneAnonymousAfterDays: 0.5 })
    expect(parseCliOptions([], { CUBBY_MAX_TOTAL_BYTES: '7', CUBBY_PRUNE_ANONYMOUS_AFTER_DAYS: '90' }))
      .toHaveProperty('server', { maxTotalBytes: 7, pruneAnonymousAfterDays: 90 })
    expect(() => parseCliOptions(['--max-total-bytes', '0'], {})).toThrow(CliUsageError)
    expect(() => parseCliOptions([], { CUBBY_PRUNE_ANONYMOUS_AFTER_DAYS: '0' })).toThrow('CUBBY_PRUNE_ANONYMOUS_AFTER_DAYS must be a positive number')
  })

  it('reads the Redis of several nodes from flags or the environment', () => {
    expect(parseCliOptions(['--redis', 'redis://127.0.0.1:6379', '--secret-file', '/s'], {})).toMatchObject({
      redis: { url: 'redis://127.0.0.1:6379', cluster: undefined, prefix: 'cubby:' }, secretFile: '/s',
    })
    const env = { CUBBY_REDIS_CLUSTER: '127.0.0.1:7000, [::1]:7001', CUBBY_REDIS_PREFIX: 'app:', CUBBY_SECRET: 's' }
    expect(parseCliOptions(['--admin-token-file', '/a'], env)).toMatchObject({
      redis: { url: undefined, cluster: [{ host: '127.0.0.1', port: 7000 }, { host: '::1', port: 7001 }], prefix: 'app:' }, adminTokenFile: '/a',
    })
  })

  it('refuses Redis without a shared secret, since each node would make its own', () => {
    expect(() => parseCliOptions(['--redis', 'redis://127.0.0.1:6379'], {})).toThrow(/CUBBY_SECRET or --secret-file/)
  })

  it.each([
    [['--redis', 'http://x']], [['--redis-cluster', '127.0.0.1']], [['--redis-cluster', 'a:1,b']], [['--redis-cluster', 'a:99999']],
    [['--redis', 'redis://a', '--redis-cluster', 'a:1']], [['--redis', 'redis://a', '--redis-prefix', '{x}']],
  ])('rejects the Redis flags %j with a usage error', (argv) => {
    expect(() => parseCliOptions(argv, { CUBBY_SECRET: 's' })).toThrow(CliUsageError)
  })
})

import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { DEFAULT_LIMITS, type CubbyLimits } from '@cubby/protocol'
import { Level } from 'level'
import { loadPreviousSecrets, loadSecret, readSecretLines } from './auth/loadSecret.js'
import type { CubbyServerOptions } from './CubbyServerOptions.js'
import type { CubbyLogger } from './logger.js'
import { checkMaxIndexedKeys, createLevelStorage } from './storage/createLevelStorage.js'
import type { CubbyStorage } from './storage/CubbyStorage.js'
import { checkMaxTotalBytes } from './storage/StorageBudget.js'
import type { LevelDatabase } from './storage/LevelDatabase.js'
import { resolveQuota } from './storage/UserQuota.js'
import {
  DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, DEFAULT_MAX_CONNECTIONS_PER_USER, DEFAULT_MAX_HELLO_BYTES, DEFAULT_MAX_INBOUND_BYTES,
  DEFAULT_MAX_OUTBOUND_BYTES, DEFAULT_RATE_LIMITS, DEFAULT_SEND_TIMEOUT_MS,
} from './limits/defaults.js'
import { DEFAULT_ALLOWED_ORIGINS, OriginPolicy } from './limits/OriginPolicy.js'
import type { ProtectionOptions } from './limits/Protection.js'
import type { RateLimit } from './limits/RateLimiter.js'

/** The storage to use, and what the server must close because it made it. @internal */
export interface ResolvedStorage {
  storage: CubbyStorage
  /** Close the storage on close (the server made it). */
  ownsStorage: boolean
  /** A database the server opened from `dataDir`, closed on close. */
  ownedDb: LevelDatabase | undefined
}

/** Picks the storage from `storage`, `db` or `dataDir`, in that order. @throws TypeError when none is given. @internal */
export function resolveStorage(options: CubbyServerOptions): ResolvedStorage {
  if (options.storage !== undefined) return { storage: options.storage, ownsStorage: false, ownedDb: undefined }
  const quota = options.quota ?? {}
  const indexed = {
    ...(options.maxIndexedKeys === undefined ? {} : { maxIndexedKeys: options.maxIndexedKeys }),
    ...(options.maxTotalBytes === undefined ? {} : { maxTotalBytes: options.maxTotalBytes }),
  }
  if (options.db !== undefined) return { storage: createLevelStorage({ db: options.db, quota, ...indexed }), ownsStorage: true, ownedDb: undefined }
  if (options.dataDir === undefined) throw new TypeError('createCubbyServer needs one of dataDir, db or storage')
  resolveQuota(quota) // throws for a bad quota before the database is made
  checkMaxIndexedKeys(options.maxIndexedKeys)
  checkMaxTotalBytes(options.maxTotalBytes)
  const db: LevelDatabase = new Level<string, string>(join(options.dataDir, 'db'))
  return { storage: createLevelStorage({ db, quota, ...indexed }), ownsStorage: true, ownedDb: db }
}

/** The token secret: `secret`, else `<dataDir>/secret`, else a random one that lasts as long as the process. @internal */
export function resolveSecret(options: CubbyServerOptions, logger: CubbyLogger): string {
  if (options.secret !== undefined) {
    if (options.secret.length === 0) throw new TypeError('secret must not be empty')
    return options.secret
  }
  if (options.dataDir !== undefined) return loadSecret(options.dataDir)
  if (options.authenticate === undefined) {
    logger.warn('No secret and no dataDir: tokens are signed with a random secret and stop working on restart')
  }
  return randomBytes(32).toString('base64url')
}

/** The admin credential: `adminToken`, else `<dataDir>/admin-token` (made on first use), else none (admin API off). @internal */
export function resolveAdminToken(options: CubbyServerOptions): string | undefined {
  if (options.adminToken !== undefined) {
    if (options.adminToken.length < 16) throw new TypeError('adminToken must be at least 16 characters')
    return options.adminToken
  }
  return options.dataDir === undefined ? undefined : loadSecret(options.dataDir, 'admin-token')
}

/** Secrets that still check tokens: `previousSecrets`, and the lines after the first of `<dataDir>/secret`. @internal */
export function resolvePreviousSecrets(options: CubbyServerOptions): string[] {
  const fromFile = options.dataDir === undefined ? [] : loadPreviousSecrets(options.dataDir)
  const all = [...(options.previousSecrets ?? []), ...fromFile]
  if (all.some((s) => s.length === 0)) throw new TypeError('previousSecrets must not be empty strings')
  return all
}

/**
 * The secrets read again, for a rotation without restart: `secret` as given, else the first line of
 * `<dataDir>/secret` (which must exist: a missing file is never replaced by a new random secret here), else
 * `current`; previous secrets are `previousSecrets` and the file's further lines. The file is read once.
 * @throws Error when the secret file is missing or empty (the caller keeps its secrets). @internal
 */
export function reloadSecrets(options: CubbyServerOptions, current: string): { secret: string; previousSecrets: string[] } {
  const lines = options.dataDir === undefined ? undefined : readSecretLines(options.dataDir)
  if (options.secret === undefined && options.dataDir !== undefined && (lines === undefined || lines.length === 0)) {
    throw new Error(`The secret file ${join(options.dataDir, 'secret')} is missing or empty; the secrets are unchanged`)
  }
  const previousSecrets = [...(options.previousSecrets ?? []), ...(lines?.slice(1) ?? [])]
  return { secret: options.secret ?? lines?.[0] ?? current, previousSecrets }
}

/** The limits with defaults filled in. @throws TypeError for a limit that is not a positive integer. @internal */
export function resolveLimits(limits: Partial<CubbyLimits> | undefined): CubbyLimits {
  const resolved = { ...DEFAULT_LIMITS, ...limits }
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`limits.${name} must be a positive integer`)
  }
  return resolved
}

/** A positive integer option or its default. @throws TypeError. @internal */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer`)
  return value
}

function rateLimit(name: string, given: Partial<RateLimit> | undefined, fallback: RateLimit): RateLimit {
  const { perSecond, burst } = { ...fallback, ...given }
  if (!Number.isFinite(perSecond) || perSecond <= 0) throw new TypeError(`rateLimits.${name}.perSecond must be a positive number`)
  return { perSecond, burst: positiveInteger(`rateLimits.${name}.burst`, burst, fallback.burst) }
}

/** The rate of new anonymous identities per remote address, with defaults filled in. @throws TypeError. @internal */
export function resolveIdentityRate(options: CubbyServerOptions): RateLimit {
  return rateLimit('identity', options.rateLimits?.identity, DEFAULT_RATE_LIMITS.identity)
}

/** The abuse limits with defaults filled in. @throws TypeError for a value out of range. @internal */
export function resolveProtection(options: CubbyServerOptions, limits: CubbyLimits): ProtectionOptions {
  return {
    connectionRate: rateLimit('connection', options.rateLimits?.connection, DEFAULT_RATE_LIMITS.connection),
    addressRate: rateLimit('address', options.rateLimits?.address, DEFAULT_RATE_LIMITS.address),
    maxConnectionsPerUser: positiveInteger('maxConnectionsPerUser', options.maxConnectionsPerUser, DEFAULT_MAX_CONNECTIONS_PER_USER),
    maxConnectionsPerAddress: positiveInteger('maxConnectionsPerAddress', options.maxConnectionsPerAddress, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
    maxSendBufferBytes: positiveInteger('maxSendBufferBytes', options.maxSendBufferBytes, 4 * limits.maxMessageBytes),
    maxHelloBytes: positiveInteger('maxHelloBytes', options.maxHelloBytes, DEFAULT_MAX_HELLO_BYTES),
    sendTimeoutMs: positiveInteger('sendTimeoutMs', options.sendTimeoutMs, DEFAULT_SEND_TIMEOUT_MS),
    maxInboundBytes: positiveInteger('maxInboundBytes', options.maxInboundBytes, DEFAULT_MAX_INBOUND_BYTES),
    maxOutboundBytes: positiveInteger('maxOutboundBytes', options.maxOutboundBytes, DEFAULT_MAX_OUTBOUND_BYTES),
    maxConnections: positiveInteger('maxConnections', options.maxConnections, DEFAULT_MAX_CONNECTIONS),
    origins: new OriginPolicy(options.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS),
    trustProxy: options.trustProxy ?? false,
  }
}

/**
 * The public origins device tokens must name as `aud`, each normalised to `scheme://host[:port]`.
 * @throws TypeError for one that is not an http(s) origin (no path, query or credentials). @internal
 */
export function resolvePublicOrigins(options: CubbyServerOptions): string[] | undefined {
  return options.publicOrigins?.map((given) => {
    let url: URL | undefined
    try {
      url = new URL(given)
    } catch {
      url = undefined
    }
    const bare = url !== undefined && url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === ''
    if (url === undefined || !/^https?:$/.test(url.protocol) || !bare) {
      throw new TypeError(`publicOrigins must be http(s) origins such as https://sync.example.com, got ${JSON.stringify(given)}`)
    }
    return url.origin
  })
}

/**
 * Seconds a token of `POST /v1/identities` lives by default: 7 days. The client renews it with
 * `POST /v1/tokens/refresh` once past half its lifetime, at every connection and before `exp` while connected, so
 * only a device offline for a whole week is locked out (such tokens now serve only pages without WebCrypto: the
 * default identity is a device key), while a leaked token that nobody renews dies within the week.
 * @internal
 */
const DEFAULT_ANONYMOUS_TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60

/**
 * The lifetimes of issued tokens: anonymous ones {@link DEFAULT_ANONYMOUS_TOKEN_TTL_SECONDS} unless set, app ones
 * only where set. @throws TypeError for one that is not a positive integer. @internal
 */
export function resolveTokenTtls(options: CubbyServerOptions): { anonymousTokenTtl?: number; tokenTtl?: number } {
  const { anonymousTokenTtlSeconds: anonymous, tokenTtlSeconds: app } = options
  return {
    anonymousTokenTtl: positiveInteger('anonymousTokenTtlSeconds', anonymous, DEFAULT_ANONYMOUS_TOKEN_TTL_SECONDS),
    ...(app === undefined ? {} : { tokenTtl: positiveInteger('tokenTtlSeconds', app, 1) }),
  }
}

/**
 * The prefix of every self-certified user id: `anon_key_` followed by the RFC 7638 SHA-256 thumbprint (base64url)
 * of the device's P-256 public key. It starts with `anon_`, so the server treats these users as anonymous (storage
 * budget, pruning), like the identities of `POST /v1/identities` (`anon_` and 22 characters, never this prefix).
 */
export const DEVICE_USER_PREFIX = 'anon_key_'

/** Most seconds from `iat` to `exp` a device token may span; the server refuses longer ones as `invalid`. */
export const MAX_DEVICE_TOKEN_SECONDS = 600

/** Seconds of clock difference the server allows on a device token's `iat` and `exp`. */
export const DEVICE_TOKEN_CLOCK_SKEW_SECONDS = 60

/**
 * The public key a device token carries in its `jwk` header: an EC P-256 key, public members only.
 * The user id is {@link DEVICE_USER_PREFIX} and the key's RFC 7638 thumbprint.
 */
export interface DevicePublicJwk {
  kty: 'EC'
  crv: 'P-256'
  /** base64url of the 32-byte x coordinate. */
  x: string
  /** base64url of the 32-byte y coordinate. */
  y: string
}

/**
 * The claims of a device token (an ES256 JWT whose protected header is `{ alg: 'ES256', typ: 'JWT', jwk }`).
 */
export interface DeviceTokenClaims {
  /** {@link DEVICE_USER_PREFIX} + the thumbprint of the header's `jwk`. */
  sub: string
  /** The server's public origin, e.g. `https://sync.example.com` (see docs/protocol.md). */
  aud: string
  /** Issued at, seconds since the epoch. */
  iat: number
  /** Expiry, seconds since the epoch; at most {@link MAX_DEVICE_TOKEN_SECONDS} after `iat`. */
  exp: number
}

import { DEVICE_TOKEN_CLOCK_SKEW_SECONDS, DEVICE_USER_PREFIX, MAX_DEVICE_TOKEN_SECONDS } from '@cubby/protocol'
import { EmbeddedJWK, calculateJwkThumbprint, errors, jwtVerify, type ProtectedHeaderParameters } from 'jose'

/**
 * What {@link verifyDeviceToken} found: the `sub`, `iat` and key thumbprint of a token whose signature verified
 * (`linked` when `sub` is not the key's own self-certified user, so the key must be a registered device of it).
 * @internal
 */
export type DeviceTokenCheck = { userId: string; issuedAt: number; deviceId: string; linked: boolean } | { reason: 'invalid' | 'expired' }

/** Options of {@link verifyDeviceToken}. @internal */
export interface DeviceTokenContext {
  /** The audiences the token may name: the configured public origins, or the origins of the request's Host. */
  audiences: readonly string[]
}

const isBase64url = (s: unknown): s is string => typeof s === 'string' && /^[A-Za-z0-9_-]{43}$/.test(s)

/** Whether a header's `jwk` is a public EC P-256 key and nothing else (no private `d`, no other curve). */
function isP256PublicKey(jwk: unknown): jwk is { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return false
  const { kty, crv, x, y } = jwk as Record<string, unknown>
  return kty === 'EC' && crv === 'P-256' && isBase64url(x) && isBase64url(y) && !('d' in jwk)
}

/**
 * Checks a device token: an ES256 JWT signed by the P-256 key in its own `jwk` header, whose `sub` is
 * {@link DEVICE_USER_PREFIX} + that key's RFC 7638 thumbprint (a self-certified user) or, `linked`, any other user
 * (the caller checks that the key is a registered device of it), whose `aud` is a single one of `audiences`, and whose
 * `iat`..`exp` spans at most {@link MAX_DEVICE_TOKEN_SECONDS} (with {@link DEVICE_TOKEN_CLOCK_SKEW_SECONDS} of
 * skew). `expired` is only said of a token whose signature verified.
 * @internal
 */
export async function verifyDeviceToken(token: string, header: ProtectedHeaderParameters, { audiences }: DeviceTokenContext): Promise<DeviceTokenCheck> {
  if (header.alg !== 'ES256' || !isP256PublicKey(header.jwk) || audiences.length === 0) return { reason: 'invalid' }
  const { kty, crv, x, y } = header.jwk
  let payload
  try {
    ;({ payload } = await jwtVerify(token, EmbeddedJWK, {
      algorithms: ['ES256'], audience: [...audiences], clockTolerance: DEVICE_TOKEN_CLOCK_SKEW_SECONDS, requiredClaims: ['sub', 'iat', 'exp'],
    }))
  } catch (error) {
    return { reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' }
  }
  const { sub, iat, exp, aud } = payload
  const now = Math.floor(Date.now() / 1000)
  // One audience only: a token naming several deployments could be replayed to each of them.
  if (typeof aud !== 'string' || typeof iat !== 'number' || typeof exp !== 'number' || iat > now + DEVICE_TOKEN_CLOCK_SKEW_SECONDS) return { reason: 'invalid' }
  if (exp - iat > MAX_DEVICE_TOKEN_SECONDS) return { reason: 'invalid' }
  const thumbprint = await calculateJwkThumbprint({ kty, crv, x, y }, 'sha256')
  if (typeof sub !== 'string') return { reason: 'invalid' }
  return { userId: sub, issuedAt: iat, deviceId: thumbprint, linked: sub !== `${DEVICE_USER_PREFIX}${thumbprint}` }
}

/**
 * The audiences a device token may name on a request: `publicOrigins` when configured, else the `http://` and
 * `https://` origins of the request's `Host` header (none without one).
 * @internal
 */
export function deviceAudiences(publicOrigins: readonly string[] | undefined, host: string | undefined): string[] {
  if (publicOrigins !== undefined && publicOrigins.length > 0) return [...publicOrigins]
  if (host === undefined || !/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host)) return []
  try {
    // Through URL, so that a default port in Host (`:443`) gives the origin a client writes (`https://a.example`).
    return [new URL(`http://${host}`).origin, new URL(`https://${host}`).origin]
  } catch {
    return []
  }
}

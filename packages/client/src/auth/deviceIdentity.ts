import { DEVICE_USER_PREFIX, type DevicePublicJwk } from '@cubby/protocol'

/**
 * An identity this device made itself: an ECDSA P-256 key pair whose private half never leaves WebCrypto (it is
 * not extractable; IndexedDB keeps the `CryptoKey` object itself), and the user id derived from the public half.
 */
export interface DeviceIdentity {
  /** {@link DEVICE_USER_PREFIX} + the RFC 7638 thumbprint of {@link publicJwk}. */
  userId: string
  privateKey: CryptoKey
  publicJwk: DevicePublicJwk
}

const subtleCrypto = (): SubtleCrypto | undefined => (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle

/**
 * Tells whether this page can make device identities: WebCrypto's `crypto.subtle` exists only in secure contexts
 * (https, localhost) and in Node.
 *
 * @internal
 */
export const canMakeDeviceIdentity = (): boolean => typeof subtleCrypto()?.generateKey === 'function'

const base64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

/** The RFC 7638 SHA-256 thumbprint of a P-256 public key: its required members in lexical order, no spaces. @internal */
export async function thumbprint({ crv, kty, x, y }: DevicePublicJwk): Promise<string> {
  const canonical = JSON.stringify({ crv, kty, x, y })
  return base64url(new Uint8Array(await subtleCrypto()!.digest('SHA-256', new TextEncoder().encode(canonical))))
}

/**
 * Makes a new device identity: a P-256 key pair (the private key not extractable) and its user id.
 *
 * @throws Whatever WebCrypto throws; call only where {@link canMakeDeviceIdentity}.
 * @internal
 */
export async function createDeviceIdentity(): Promise<DeviceIdentity> {
  const subtle = subtleCrypto()!
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  const { x, y } = await subtle.exportKey('jwk', pair.publicKey)
  const publicJwk: DevicePublicJwk = { kty: 'EC', crv: 'P-256', x: x!, y: y! }
  return { userId: DEVICE_USER_PREFIX + (await thumbprint(publicJwk)), privateKey: pair.privateKey, publicJwk }
}

/** Seconds a device token lives: the client signs a fresh one for every connection and renews it before then. */
const DEVICE_TOKEN_SECONDS = 300

/**
 * Signs a short-lived device token (an ES256 JWT carrying the public key in its `jwk` header) for the server at
 * `url`: its `aud` is the URL's origin, so that the token is refused by any other server.
 *
 * @internal
 */
export async function signDeviceToken(identity: DeviceIdentity, url: string): Promise<string> {
  const encode = (value: unknown): string => base64url(new TextEncoder().encode(JSON.stringify(value)))
  const iat = Math.floor(Date.now() / 1000)
  const header = encode({ alg: 'ES256', typ: 'JWT', jwk: identity.publicJwk })
  const input = `${header}.${encode({ sub: identity.userId, aud: new URL(url).origin, iat, exp: iat + DEVICE_TOKEN_SECONDS })}`
  // WebCrypto's ECDSA signature is r || s, which is exactly the JWS form (RFC 7518 §3.4).
  const signature = await subtleCrypto()!.sign({ name: 'ECDSA', hash: 'SHA-256' }, identity.privateKey, new TextEncoder().encode(input))
  return `${input}.${base64url(new Uint8Array(signature))}`
}

const b64url = (data: string | ArrayBuffer): string =>
  Buffer.from(typeof data === 'string' ? Buffer.from(data) : new Uint8Array(data)).toString('base64url')

/** A device key pair as a client makes it: the private key stays non-extractable. */
export interface DeviceKey {
  /** `anon_key_` + the RFC 7638 thumbprint of {@link publicJwk}. */
  readonly userId: string
  /** The public key, members of the thumbprint only (`crv`, `kty`, `x`, `y`). */
  readonly publicJwk: { kty: 'EC'; crv: string; x: string; y: string }
  readonly privateKey: CryptoKey
  /** The curve: `P-256` for real device keys, another only to build attacks. */
  readonly namedCurve: 'P-256' | 'P-384'
}

/**
 * Makes an ECDSA key pair with `globalThis.crypto` (the same API as the browser's WebCrypto) and derives its user id.
 *
 * @example
 * ```ts
 * const key = await createDeviceKey()
 * const token = await signDeviceToken(key, { aud: server.url })
 * ```
 */
export async function createDeviceKey(namedCurve: 'P-256' | 'P-384' = 'P-256'): Promise<DeviceKey> {
  const pair = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve }, false, ['sign', 'verify'])
  const { crv, x, y } = await globalThis.crypto.subtle.exportKey('jwk', pair.publicKey)
  const publicJwk = { kty: 'EC' as const, crv: crv!, x: x!, y: y! }
  return { userId: `anon_key_${await thumbprint(publicJwk)}`, publicJwk, privateKey: pair.privateKey, namedCurve }
}

/** The RFC 7638 SHA-256 thumbprint of an EC public key: its required members in lexical order, no spaces. */
export async function thumbprint({ crv, kty, x, y }: { crv: string; kty: string; x: string; y: string }): Promise<string> {
  const canonical = JSON.stringify({ crv, kty, x, y })
  return b64url(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)))
}

/** What {@link signDeviceToken} puts into a token; tests override fields to build attacks. */
export interface DeviceTokenOptions {
  /** The server's origin, e.g. `server.url`. */
  aud: string | string[]
  /** Seconds since the epoch. @default now */
  iat?: number
  /** Seconds since the epoch. @default iat + 300 */
  exp?: number
  /** @default key.userId */
  sub?: string
  /** Replaces or adds header members (`alg`, `jwk`, ...); `undefined` removes one. @default {} */
  header?: Record<string, unknown>
  /** More claims. @default {} */
  claims?: Record<string, unknown>
}

/**
 * Signs a self-certified device token: an ES256 JWT with the public key in its `jwk` header. Written with WebCrypto
 * rather than jose, so that the server's jose-based check is tested against an independent implementation.
 *
 * @example
 * ```ts
 * const key = await createDeviceKey()
 * await fetch(`${server.url}/v1/values`, { headers: { authorization: `Bearer ${await signDeviceToken(key, { aud: server.url })}` } })
 * ```
 */
export async function signDeviceToken(key: DeviceKey, options: DeviceTokenOptions): Promise<string> {
  const iat = options.iat ?? Math.floor(Date.now() / 1000)
  const alg = key.namedCurve === 'P-256' ? 'ES256' : 'ES384'
  const header = JSON.parse(JSON.stringify({ alg, typ: 'JWT', jwk: key.publicJwk, ...options.header })) as Record<string, unknown>
  const payload = { sub: options.sub ?? key.userId, aud: options.aud, iat, exp: options.exp ?? iat + 300, ...options.claims }
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
  const hash = key.namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384'
  // WebCrypto's ECDSA signature is r || s, which is exactly the JWS form (RFC 7518 §3.4).
  const signature = await globalThis.crypto.subtle.sign({ name: 'ECDSA', hash }, key.privateKey, new TextEncoder().encode(input))
  return `${input}.${b64url(signature)}`
}

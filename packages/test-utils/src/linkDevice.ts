import type { LinkCodeResponse, RedeemLinkResponse } from '@cubby/protocol'
import { rawHttp, type HttpAnswer } from './rawHttp.js'
import { signDeviceToken, type DeviceKey } from './signDeviceToken.js'

const JSON_HEADERS = { 'content-type': 'application/json' }

/** `POST /v1/devices/links` as the holder of `token`: the answer, its JSON a {@link LinkCodeResponse} on 201. */
export function createLinkCode(url: string, token: string, body: { ttlSeconds?: number } = {}): Promise<HttpAnswer & { json: LinkCodeResponse | { error: unknown } }> {
  return rawHttp(url, 'POST', '/v1/devices/links', { token, headers: JSON_HEADERS, body: JSON.stringify(body) }) as Promise<HttpAnswer & { json: LinkCodeResponse }>
}

/**
 * `POST /v1/devices/links/redeem` as the new device `key` (proved by a device token of it for `aud`, `url` unless
 * given), with `code` and a label.
 */
export async function redeemLinkCode(url: string, key: DeviceKey, code: unknown, options: { aud?: string; label?: string; proof?: string } = {}): Promise<HttpAnswer> {
  const token = options.proof ?? await signDeviceToken(key, { aud: options.aud ?? url })
  return rawHttp(url, 'POST', '/v1/devices/links/redeem', { token, headers: JSON_HEADERS, body: JSON.stringify({ code, label: options.label ?? 'test device' }) })
}

/**
 * Links `key` as a device of the user of `token` (a code, then its redemption) and returns what the redemption
 * answered. @throws when either step fails.
 *
 * @example
 * ```ts
 * const phone = await createDeviceKey()
 * await linkDevice(server.url, server.token('alice'), phone)
 * await signDeviceToken(phone, { aud: server.url, sub: 'alice' }) // now a token of alice
 * ```
 */
export async function linkDevice(url: string, token: string, key: DeviceKey, label?: string): Promise<RedeemLinkResponse> {
  const created = await createLinkCode(url, token)
  if (created.status !== 201) throw new Error(`POST /v1/devices/links answered ${created.status}: ${created.text}`)
  const redeemed = await redeemLinkCode(url, key, (created.json as LinkCodeResponse).code, label === undefined ? {} : { label })
  if (redeemed.status !== 200) throw new Error(`POST /v1/devices/links/redeem answered ${redeemed.status}: ${redeemed.text}`)
  return redeemed.json as RedeemLinkResponse
}

import { CubbyError, DEVICE_USER_PREFIX } from '@cubby/protocol'
import { canMakeDeviceIdentity, createDeviceIdentity, signDeviceToken, thumbprint, type DeviceIdentity } from '../auth/deviceIdentity.js'
import type { CubbyDevice, CubbyDevices, DeviceContext, LinkCode, LinkOptions, RedeemOptions, RedeemResult } from './CubbyDevices.js'
import { requestServer, type ServerRequest } from './requestServer.js'

/** The fragment a link URL carries the code in: `#link=<code>`. */
const LINK_FRAGMENT = 'link='

/** This device's key: the stored one, or a new one where the stored identity is a server-issued token. */
async function deviceKey<TClient>(context: DeviceContext<TClient>): Promise<DeviceIdentity> {
  const stored = await context.provider().loadIdentity()
  if (stored !== undefined && 'privateKey' in stored) return stored
  if (!canMakeDeviceIdentity()) throw new TypeError('redeem needs WebCrypto (a secure context: https or localhost) to make this device\'s key')
  return createDeviceIdentity()
}

function asLinkCode(answer: Record<string, unknown>, pageUrl: string | URL | undefined): LinkCode {
  const { code, expiresAt } = answer
  if (typeof code !== 'string' || typeof expiresAt !== 'number') throw new CubbyError('BAD_MESSAGE', 'POST /v1/devices/links sent no code')
  if (pageUrl === undefined) return { code, expiresAt }
  const url = new URL(pageUrl)
  url.hash = `${LINK_FRAGMENT}${code}`
  return { code, expiresAt, url: url.href }
}

/**
 * The device calls of a client (loaded on first use, so that apps that never call them do not load them).
 * @internal
 */
export function deviceActions<TClient>(context: DeviceContext<TClient>): CubbyDevices<TClient> {
  const { options } = context
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  /** A request of the client's user, with a token of its session. */
  const asUser = async (path: string, request: Omit<ServerRequest, 'token' | 'fetch'>): Promise<Record<string, unknown>> => {
    const token = await (await context.session()).token()
    return requestServer(options.url, path, { ...request, token, fetch: fetchFn })
  }

  return {
    async link({ ttlSeconds, pageUrl }: LinkOptions = {}) {
      if (ttlSeconds !== undefined && (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1)) throw new TypeError('link: ttlSeconds must be a positive integer')
      const answer = await asUser('/v1/devices/links', { method: 'POST', body: ttlSeconds === undefined ? {} : { ttlSeconds } })
      return asLinkCode(answer, pageUrl)
    },

    async list() {
      const { devices } = await asUser('/v1/devices', { method: 'GET' })
      if (!Array.isArray(devices)) throw new CubbyError('BAD_MESSAGE', 'GET /v1/devices sent no devices')
      return devices as CubbyDevice[]
    },

    async revoke(id: string) {
      if (typeof id !== 'string' || id === '') throw new TypeError('revoke: id must be a device id')
      await asUser(`/v1/devices/${encodeURIComponent(id)}`, { method: 'DELETE' })
    },

    async redeem(code: string, { label = '', discardPending = false }: RedeemOptions = {}): Promise<RedeemResult<TClient>> {
      if (options.auth !== undefined) throw new TypeError('redeem: this client\'s user comes from `auth` (the app\'s tokens); only a device identity can join a user')
      if (typeof code !== 'string' || code === '') throw new TypeError('redeem: code must be a link code')
      if (typeof label !== 'string') throw new TypeError('redeem: label must be a string')
      const session = await context.session()
      const pending = await context.pendingCount()
      if (pending > 0 && !discardPending) {
        throw new CubbyError('PENDING_WRITES', `${pending} write(s) of ${session.userId} not on the server yet: go online and await synced(), or pass discardPending`)
      }
      const key = await deviceKey(context)
      // The redemption proves the key: a device token whose sub is the key's own self-certified user.
      const own = { ...key, userId: `${DEVICE_USER_PREFIX}${await thumbprint(key.publicJwk)}` }
      const token = await signDeviceToken(own, options.url)
      const answer = await requestServer(options.url, '/v1/devices/links/redeem', { method: 'POST', token, body: { code, label }, fetch: fetchFn })
      const { userId, deviceId } = answer
      if (typeof userId !== 'string' || typeof deviceId !== 'string') throw new CubbyError('BAD_MESSAGE', 'POST /v1/devices/links/redeem sent no user')
      // Same key, the new user: from now on (and after reloads) its tokens name that user.
      await context.provider().saveIdentity({ userId, privateKey: key.privateKey, publicJwk: key.publicJwk })
      await context.leave(userId !== session.userId)
      return { userId, deviceId, cubby: context.reopen() }
    },
  }
}

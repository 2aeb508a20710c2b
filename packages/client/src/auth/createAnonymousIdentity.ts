import { CubbyError, isCubbyErrorCode } from '@cubby/protocol'
import type { CubbyIdentity } from '../cache/CubbyCache.js'

/**
 * Asks the server for a new anonymous identity (`POST /v1/identities`).
 *
 * @throws CubbyError with the server's code when it refuses; whatever `fetch` throws when offline.
 * @internal
 */
export async function createAnonymousIdentity(url: string, fetchFn: typeof fetch): Promise<CubbyIdentity> {
  const res = await fetchFn(`${url.replace(/\/+$/, '')}/v1/identities`, { method: 'POST' })
  const body: unknown = await res.json().catch(() => undefined)
  if (!res.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
    const code = isCubbyErrorCode(error?.code) ? error.code : 'INTERNAL'
    throw new CubbyError(code, typeof error?.message === 'string' ? error.message : `Creating an identity failed with HTTP ${res.status}`)
  }
  const { userId, token } = (body ?? {}) as Partial<CubbyIdentity>
  if (typeof userId !== 'string' || typeof token !== 'string') throw new CubbyError('BAD_MESSAGE', 'The server sent no identity')
  return { userId, token }
}

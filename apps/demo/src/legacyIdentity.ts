import { createIdbCache } from '@cubby/client'

/** Where earlier versions of the demo kept the identity the server had issued to this browser. */
const LEGACY_KEY = 'cubby-demo/identity'

/**
 * Hands the identity that earlier versions of the demo kept in localStorage to the client's cache, once, so that
 * such a browser stays the same user (the client keeps using and refreshing its token). Local only: no network.
 */
export async function adoptLegacyIdentity(name: string): Promise<void> {
  const stored = localStorage.getItem(LEGACY_KEY)
  if (stored === null) return
  try {
    const { userId, token } = JSON.parse(stored) as { userId?: unknown; token?: unknown }
    const cache = createIdbCache({ name })
    if (typeof userId === 'string' && typeof token === 'string' && !(await cache.loadIdentity())) await cache.saveIdentity({ userId, token })
    localStorage.removeItem(LEGACY_KEY)
  } catch (error) {
    console.warn('Could not keep the identity of an earlier version:', error)
  }
}

/** Who this browser is to the server: the anonymous identity it was given, or one received through a link. */
export interface Identity {
  userId: string
  token: string
}

const STORAGE_KEY = 'cubby-demo/identity'

/** The user id a token names (its `sub`), read without verification: the server verifies. */
function userIdOf(token: string): string | undefined {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown }
    return typeof payload.sub === 'string' ? payload.sub : undefined
  } catch {
    return undefined
  }
}

/** A token from the address bar (`#token=…`, the "open on another device" link), removed from it at once. */
function takeTokenFromUrl(): Identity | undefined {
  const token = new URLSearchParams(location.hash.slice(1)).get('token')
  if (token === null) return undefined
  history.replaceState(null, '', location.pathname + location.search)
  const userId = userIdOf(token)
  return userId === undefined ? undefined : { userId, token }
}

function loadStoredIdentity(): Identity | undefined {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Identity | null
    return stored && typeof stored.token === 'string' && typeof stored.userId === 'string' ? stored : undefined
  } catch {
    return undefined
  }
}

export function storeIdentity(identity: Identity | undefined): void {
  if (identity) localStorage.setItem(STORAGE_KEY, JSON.stringify(identity))
  else localStorage.removeItem(STORAGE_KEY)
}

/** Asks the server for a new anonymous identity, retrying (up to 10 s apart) until it answers. */
async function createIdentity(): Promise<Identity> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch('/v1/identities', { method: 'POST' })
      if (res.ok) return (await res.json()) as Identity
    } catch {
      // Offline: try again below.
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)))
  }
}

/**
 * This browser's identity: from a link (which replaces the stored one), else the stored one (so reloads, also
 * offline, stay the same user), else a new anonymous one from the server.
 */
export async function resolveIdentity(): Promise<Identity> {
  const identity = takeTokenFromUrl() ?? loadStoredIdentity() ?? (await createIdentity())
  storeIdentity(identity)
  return identity
}

/** The link that opens this user on another device; the token travels in the fragment, which is never sent to a server. */
export const deviceLink = (identity: Identity): string => `${location.origin}/#token=${encodeURIComponent(identity.token)}`

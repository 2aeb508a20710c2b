/** Browser origins allowed by default: any port on the loopback names, for local development. */
export const DEFAULT_ALLOWED_ORIGINS: readonly string[] = ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*']

/**
 * Which browser origins may open a sync socket or call the HTTP API: the page the server itself serves (its
 * `Origin` names the `Host` it asked), plus `allowed` patterns: an exact origin (`https://app.example.com`),
 * any port of a host (`http://localhost:*`), or `*` for every origin. Requests without an `Origin` header come
 * from programs, not browser pages, and are allowed: an origin check protects browsers' users, and any other
 * program can send whatever header it likes.
 * @internal
 */
export class OriginPolicy {
  readonly #any: boolean
  readonly #exact: Set<string>
  readonly #anyPort: Set<string>

  constructor(allowed: readonly string[]) {
    this.#any = allowed.includes('*')
    this.#exact = new Set()
    this.#anyPort = new Set()
    for (const pattern of allowed) {
      if (pattern === '*') continue
      if (pattern.endsWith(':*')) this.#anyPort.add(pattern.slice(0, -2).toLowerCase())
      else this.#exact.add(normalise(pattern))
    }
  }

  /** Tells whether a request with this `Origin` (and `Host`) header may proceed. */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined || this.#any) return true
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      return false
    }
    if (url.origin === 'null') return false
    if (host !== undefined && url.host === host.toLowerCase()) return true
    return this.#exact.has(url.origin) || this.#anyPort.has(`${url.protocol}//${url.hostname}`)
  }
}

/** An origin pattern as `URL.origin` writes it (lower case, no default port, no path). */
function normalise(pattern: string): string {
  try {
    return new URL(pattern).origin
  } catch {
    throw new TypeError(`allowedOrigins: ${JSON.stringify(pattern)} is not an origin (scheme://host[:port], scheme://host:* or *)`)
  }
}

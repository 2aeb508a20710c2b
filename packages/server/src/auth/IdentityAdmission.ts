import { RateLimiter, type RateLimit } from '../limits/RateLimiter.js'

/** Self-certified users remembered as seen, so that only a new one is charged (about 150 bytes each). */
const MAX_KNOWN = 50_000

/** What a refusal over the limit of new identities says. @internal */
export const NEW_IDENTITY_MESSAGE = 'Too many new identities from this address; retry after retryAfter seconds'

/** Options of {@link IdentityAdmission}. @internal */
export interface IdentityAdmissionOptions {
  /** New anonymous identities per remote address. */
  rate: RateLimit
  /** The user's revision: 0 for a user that has never written. */
  head: (userId: string) => Promise<number>
  /** Most admitted users remembered. @default 50_000 */
  maxKnown?: number
}

/**
 * The per-address limit of new anonymous identities, shared by `POST /v1/identities` and self-certified users: a
 * device key the server has not seen (not among the last {@link MAX_KNOWN} seen and never written) spends one of
 * its address's tokens, exactly as a `POST /v1/identities` does.
 * @internal
 */
export class IdentityAdmission {
  readonly #limiter: RateLimiter
  readonly #head: (userId: string) => Promise<number>
  /** Insertion-ordered: the oldest is forgotten first. */
  readonly #known = new Set<string>()
  readonly #maxKnown: number

  constructor({ rate, head, maxKnown = MAX_KNOWN }: IdentityAdmissionOptions) {
    this.#limiter = new RateLimiter(rate)
    this.#head = head
    this.#maxKnown = maxKnown
  }

  /** How many admitted users are remembered. */
  get size(): number {
    return this.#known.size
  }

  /** One new identity from `address` (`POST /v1/identities`). @returns 0, or the seconds to wait. */
  takeNew(address: string): number {
    return this.#limiter.take(address)
  }

  /**
   * Admits a self-certified user on `address`: free for a user seen before or with data, else one new identity.
   * @returns 0, or the seconds to wait.
   * @throws when the storage cannot be read.
   */
  async admit(userId: string, address: string): Promise<number> {
    if (this.#known.delete(userId)) return this.#remember(userId)
    if ((await this.#head(userId)) > 0) return this.#remember(userId)
    const wait = this.#limiter.take(address)
    return wait > 0 ? wait : this.#remember(userId)
  }

  #remember(userId: string): 0 {
    this.#known.add(userId)
    if (this.#known.size > this.#maxKnown) this.#known.delete(this.#known.values().next().value!)
    return 0
  }
}

/**
 * A server-wide count of bytes held for clients (inbound: frames partly received; outbound: messages not yet
 * written to their sockets), against a budget. Connections add and take back what they hold; past the budget,
 * new sockets are refused and connections that add more are cut.
 * @internal
 */
export class ByteBudget {
  readonly max: number
  #used = 0

  constructor(max: number) {
    this.max = max
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used
  }

  /** Whether more than the budget is held. */
  get exceeded(): boolean {
    return this.#used > this.max
  }

  /** Adds `bytes` (negative to give back). */
  add(bytes: number): void {
    this.#used += bytes
  }
}

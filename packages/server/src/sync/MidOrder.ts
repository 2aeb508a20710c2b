/**
 * How many client ids a connection's {@link MidOrder} remembers (the most recently pushed): a leader tab pushes
 * its own client id's writes and those of the pages whose outbox it replays, far fewer than this. One forgotten
 * only loses the check until its client id pushes again.
 * @internal
 */
const MAX_ORDERED_CLIENT_IDS = 64

/**
 * The highest mid a connection has pushed per client id, to refuse a push that comes after a higher mid of its
 * client id (`OUT_OF_ORDER`). Storage takes a mid at or below a client id's last applied one as a retry and
 * acknowledges it without applying it, so such a write would be lost without a word. A correct client never
 * sends one on a connection: it sends each client id's writes in mid order and sends a write again only on a
 * later connection (where it is a retry). Gaps are fine: a mid may never come (a write rolled back on the device,
 * rejected by the server, or dropped with its batch).
 * @internal
 */
export class MidOrder {
  readonly #highest = new Map<string, number>()

  /**
   * Takes a push whose mids ascend (the parser checks that) and tells whether it is in order: its first mid is
   * above every mid of its client id pushed on this connection before. A push out of order is not taken.
   */
  take(clientId: string, firstMid: number, lastMid: number): boolean {
    const highest = this.#highest
    const before = highest.get(clientId)
    if (before !== undefined && firstMid <= before) return false
    // Delete first: a Map keeps insertion order, so the first key is the one that pushed least recently.
    highest.delete(clientId)
    highest.set(clientId, lastMid)
    if (highest.size > MAX_ORDERED_CLIENT_IDS) highest.delete(highest.keys().next().value!)
    return true
  }
}

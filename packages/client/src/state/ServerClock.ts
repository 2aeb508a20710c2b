/**
 * This device's estimate of the server's clock, which every expiry is measured on: the device's clock plus the
 * offset learnt from the server's `welcome` (and kept in the cache, so that it survives reloads). A device that
 * never met the server uses offset 0, its own clock.
 * @internal
 */
export class ServerClock {
  readonly #deviceNow: () => number
  #offset: number

  /** @param deviceNow The device's clock (`Date.now`; tests pass a shifted one). @param offset Server minus device, in ms. */
  constructor(deviceNow: () => number = Date.now, offset = 0) {
    this.#deviceNow = deviceNow
    this.#offset = offset
  }

  /** The server's time now, as this device estimates it (ms since the epoch). */
  readonly now = (): number => this.#deviceNow() + this.#offset

  /** The offset in use: server minus device, in ms. */
  get offset(): number {
    return this.#offset
  }

  /**
   * Learns the offset from the server's time in a `welcome`. The frame took some time to arrive, so the estimate
   * is late by at most that time (a round trip is usually a few ms; an expiry is exact to about that much).
   * @returns The new offset.
   */
  learn(serverNow: number): number {
    this.#offset = serverNow - this.#deviceNow()
    return this.#offset
  }

  /** Takes the offset another tab of this device learnt (the leader tab, from its `welcome`). */
  adopt(offset: number): void {
    this.#offset = offset
  }
}

/**
 * Logs about a peer at most once per period per address, so a scanner or a
 * misconfigured client retrying in a loop costs one line a minute, not one
 * per connection. Pure: the caller passes the time.
 *
 * @module
 */

/** Remembers when each address was last logged; bounded in addresses. */
export class LogThrottle {
  readonly #periodMs: number;
  readonly #maxAddresses: number;
  readonly #lastLogged = new Map<string, number>();

  /**
   * @param periodMs Log an address again only after this many milliseconds.
   * @param maxAddresses Addresses remembered at once; past it, addresses
   * not yet seen are not logged until older ones expire.
   */
  constructor(periodMs = 60_000, maxAddresses = 10_000) {
    this.#periodMs = periodMs;
    this.#maxAddresses = maxAddresses;
  }

  /** Whether to log about `address` at time `now` (ms); records it if so. */
  shouldLog(address: string, now: number): boolean {
    const last = this.#lastLogged.get(address);
    if (last !== undefined && now - last < this.#periodMs) return false;
    if (last === undefined && this.#lastLogged.size >= this.#maxAddresses) {
      for (const [known, at] of this.#lastLogged) {
        if (now - at >= this.#periodMs) this.#lastLogged.delete(known);
      }
      if (this.#lastLogged.size >= this.#maxAddresses) return false;
    }
    this.#lastLogged.set(address, now);
    return true;
  }
}

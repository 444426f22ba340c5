/**
 * The caps on connections served at once, in all and per peer address,
 * with their counts and their log lines: one line each time a cap is
 * reached, not one per refused connection. Pure: no I/O.
 *
 * @module
 */

/** Why a connection was refused by its caps. */
export type SlotRefusal = "max_connections" | "max_connections_per_peer";

/** The caps of one port and where their refusals go. */
export interface SlotOptions {
  /** Connections served at once. */
  readonly max: number;
  /** Connections served at once from one address. */
  readonly maxPerPeer: number;
  /** The connections, in log lines: `connections`, `HTTP connections`. */
  readonly what: string;
  /** The options' names, in log lines: `maxConnections`, `http.maxConnections`. */
  readonly names: Readonly<Record<SlotRefusal, string>>;
  /** Counts refusals by reason. */
  readonly refused: Record<SlotRefusal, number>;
  /** Receives a line each time a cap is reached. */
  readonly log: (message: string) => void;
}

/** The connections served now, by peer address. */
export class ConnectionSlots {
  readonly #options: SlotOptions;
  readonly #perPeer = new Map<string, number>();
  #open = 0;
  /** Refusals are logged once per stretch at the cap, not per connection. */
  #refusing = false;
  /** Peers refused at their own cap, logged once per stretch. */
  readonly #refusedPeers = new Set<string>();

  /** @param options The caps, and where refusals are counted and logged. */
  constructor(options: SlotOptions) {
    this.#options = options;
  }

  /** Connections holding a slot now. */
  get open(): number {
    return this.#open;
  }

  /**
   * Takes a slot for a connection from `host`; false (counted, and logged
   * once per stretch) when a cap is reached: close the connection.
   */
  take(host: string): boolean {
    const { max, maxPerPeer, what, names, refused, log } = this.#options;
    if (this.#open >= max) {
      if (!this.#refusing) {
        log(`refusing ${what}: ${names.max_connections} (${max}) reached`);
      }
      this.#refusing = true;
      refused.max_connections++;
      return false;
    }
    this.#refusing = false;
    const count = this.#perPeer.get(host) ?? 0;
    if (count >= maxPerPeer) {
      if (!this.#refusedPeers.has(host)) {
        log(
          `refusing ${what} from ${host}: ${names.max_connections_per_peer} (${maxPerPeer}) reached`,
        );
      }
      this.#refusedPeers.add(host);
      refused.max_connections_per_peer++;
      return false;
    }
    this.#refusedPeers.delete(host);
    this.#perPeer.set(host, count + 1);
    this.#open++;
    return true;
  }

  /** Gives back the slot of a connection from `host` that ended. */
  release(host: string): void {
    this.#open--;
    const left = this.#perPeer.get(host)! - 1;
    if (left === 0) {
      // Bounds the refusal memory by the peers connected now.
      this.#perPeer.delete(host);
      this.#refusedPeers.delete(host);
    } else this.#perPeer.set(host, left);
  }
}

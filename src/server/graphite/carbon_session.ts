/**
 * One connection to the carbon port: lines in, points stored, nothing
 * answered (carbon never answers). A bad line is counted and logged at most
 * once a minute per address, and the connection goes on; a line past
 * `maxLineBytes` closes it, as on the protocol port. Work is done in
 * bounded slices between turns of the event loop, so a flood on one
 * connection does not hold up the others.
 *
 * @module
 */

import type { ServerCounters } from "../counters.ts";
import { LineReader } from "../line_reader.ts";
import type { LogThrottle } from "../log_throttle.ts";
import {
  type Storage,
  StorageRefusal,
  type StoredPoint,
} from "../storage/storage.ts";
import { nextTurn } from "../../internal/turn.ts";
import { parseCarbonLine } from "./carbon_line.ts";
import { PeerLink } from "../peer_link.ts";

/** Lines handled before the event loop is given back. */
const TURN_LINES = 4096;
/** Characters of a bad line quoted in the log, as carbon quotes 400. */
const QUOTE_CHARS = 400;

/** What a {@link CarbonSession} needs from its server. */
export interface CarbonSessionOptions {
  /** Where points go. */
  readonly storage: Storage;
  /** Longest line, without its `\n`; a longer one closes the connection. */
  readonly maxLineBytes: number;
  /** Receives diagnostics. */
  readonly log: (message: string) => void;
  /** Counts lines, stored points and closed connections. */
  readonly counters: ServerCounters;
  /** Bad lines are logged at most once a minute per address. */
  readonly badLines: LogThrottle;
  /**
   * Refused lines too: a sender that reconnects for each batch would
   * otherwise log a line per connection.
   */
  readonly refusedLines: LogThrottle;
  /** Hears of a failed TLS handshake (the session then ends quietly). */
  readonly onHandshakeError?: (error: unknown) => void;
}

/** Serves one carbon connection until the peer closes it or the server stops. */
export class CarbonSession extends PeerLink {
  readonly #options: CarbonSessionOptions;
  readonly #reader: LineReader;

  /** Takes ownership of `conn`; call `run` to serve it. */
  constructor(conn: Deno.Conn, options: CarbonSessionOptions) {
    super(conn);
    this.#options = options;
    this.#reader = new LineReader(options.maxLineBytes);
  }

  /** Reads lines until the peer closes or the server stops; never rejects. */
  async run(): Promise<void> {
    const { counters, log, onHandshakeError } = this.#options;
    try {
      if (
        "handshake" in this.conn && !(await this.handshake(onHandshakeError))
      ) {
        return;
      }
      while (!this.stopping) {
        const count = await this.#read();
        if (count === null) break;
        this.#reader.filled(count);
        const { lines, tooLong } = this.#reader.take();
        await this.#store(lines);
        if (tooLong) {
          counters.errors.too_long++;
          log(
            `closing carbon connection from ${this.peer}: a line exceeds maxLineBytes (${this.#options.maxLineBytes})`,
          );
          break;
        }
      }
    } catch (error) {
      if (this.unexpected(error)) {
        counters.errors.connection++;
        log(`closing carbon connection from ${this.peer}: ${error}`);
      }
    } finally {
      this.close();
    }
  }

  #read(): Promise<number | null> {
    return this.readFromPeer(this.conn.read(this.#reader.space()));
  }

  /** Parses `lines` and stores their points, a slice at a time. */
  async #store(lines: readonly (string | null)[]): Promise<void> {
    const { counters } = this.#options;
    const now = Math.floor(Date.now() / 1000);
    const batch: StoredPoint[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = parseCarbonLine(lines[i], now);
      if (line.kind === "point") batch.push(line.point);
      else if (line.kind === "nan") counters.graphiteLines.nan++;
      else if (line.kind === "invalid") this.#invalid(lines[i], line.reason);
      if ((i + 1) % TURN_LINES === 0) {
        await this.#put(batch);
        await nextTurn();
      }
    }
    await this.#put(batch);
  }

  /** Stores `batch` and empties it; a refusal is counted, not answered. */
  async #put(batch: StoredPoint[]): Promise<void> {
    if (batch.length === 0) return;
    const { storage, counters } = this.#options;
    const taken: StoredPoint[] = [];
    let refused = 0;
    let reason: string | undefined;
    for (const point of batch) {
      const why = storage.refusal?.(point);
      if (why === undefined) taken.push(point);
      else {
        refused++;
        reason ??= why;
      }
    }
    batch.length = 0;
    if (reason !== undefined) this.#refused(refused, reason);
    if (taken.length === 0) return;
    try {
      await storage.put(taken);
      counters.stored(taken.length);
      counters.graphiteLines.stored += taken.length;
    } catch (error) {
      // Any other failure closes the connection, as on the protocol port.
      if (!(error instanceof StorageRefusal)) throw error;
      this.#refused(taken.length, error.message);
    }
  }

  /** Counts refused points; logs a refusal at most once a minute per address. */
  #refused(count: number, reason: string): void {
    const { counters, refusedLines, log } = this.#options;
    counters.graphiteLines.refused += count;
    if (!refusedLines.shouldLog(this.peerHost, Date.now())) return;
    log(
      `dropping carbon points from ${this.peerHost}: ${reason}; this address is logged at most once a minute`,
    );
  }

  #invalid(line: string | null, reason: string): void {
    const { counters, badLines, log } = this.#options;
    counters.graphiteLines.invalid++;
    if (!badLines.shouldLog(this.peerHost, Date.now())) return;
    const text = line === null ? "(bytes that are not UTF-8)" : JSON.stringify(
      line.length > QUOTE_CHARS ? `${line.slice(0, QUOTE_CHARS)}...` : line,
    );
    log(
      `ignored a carbon line from ${this.peerHost} (${reason}): ${text}; this address is logged at most once a minute`,
    );
  }
}

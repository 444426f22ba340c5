/**
 * What the client has learnt from how the server treats its connections:
 * drops before any answer (which back off the reconnect), and servers that
 * close every connection after one answer (which get one request per
 * connection, so no request is written on a connection already closing).
 * No I/O.
 *
 * @module
 */

/** Peer closes after exactly one answer, in a row, that mark such a server. */
const ONE_ANSWER_CLOSES = 2;

/** The history of the client's connections to one server. */
export class ConnectionHistory {
  /**
   * Connections lost in a row before any answer; backs off the reconnect,
   * so a server that accepts and drops at once does not use up every retry
   * within milliseconds. Any answer resets it, and a connection that
   * answered before it closed is reconnected at once.
   */
  drops = 0;
  /** Answers on the current connection. */
  #answers = 0;
  /** Request lines written on the current connection. */
  #written = 0;
  /** Connections in a row that the server closed after exactly one answer. */
  #oneAnswerCloses = 0;

  /**
   * Whether the server closes each connection after one answer (seen
   * twice in a row): then each connection carries one request, and is
   * closed by the client once answered.
   */
  get oneAnswerPerConnection(): boolean {
    return this.#oneAnswerCloses >= ONE_ANSWER_CLOSES;
  }

  /** Request lines the current connection may still carry. */
  room(maxInFlight: number, inFlight: number): number {
    const room = maxInFlight - inFlight;
    return this.oneAnswerPerConnection
      ? Math.min(room, 1 - this.#written)
      : room;
  }

  /** Whether the current connection has served its one request. */
  get spent(): boolean {
    return this.oneAnswerPerConnection && this.#answers >= 1;
  }

  /** A new connection is open. */
  opened(): void {
    this.#answers = 0;
    this.#written = 0;
  }

  /** `lines` request lines were written on the current connection. */
  wrote(lines: number): void {
    this.#written += lines;
  }

  /** `lines` answers arrived on the current connection. */
  answered(lines: number): void {
    this.drops = 0;
    this.#answers += lines;
    if (this.#answers > 1) this.#oneAnswerCloses = 0;
  }

  /** The server ended the current connection. */
  ended(): void {
    if (this.#answers === 1) this.#oneAnswerCloses++;
    else this.#oneAnswerCloses = 0;
  }

  /** The current connection is lost; `waiting`: answers were still due. */
  lost(waiting: boolean): void {
    if (waiting && this.#answers === 0) this.drops++;
  }
}

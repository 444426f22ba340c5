/**
 * What the protocol and carbon sessions share about their peer: who it is,
 * whether the session is waiting on it (for the idle timeout), and how a
 * session stops and closes.
 *
 * @module
 */

/** Whether `error` only says the peer left (reset, broken pipe, TLS cut short). */
export function peerLeft(error: unknown): boolean {
  // UnexpectedEof: a TLS peer left without its close_notify.
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.UnexpectedEof;
}

/** One accepted connection as its session sees the peer. */
export abstract class PeerLink {
  /** `host:port` of the peer, for diagnostics. */
  readonly peer: string;
  /** The peer's address alone, for the per-address limit. */
  readonly peerHost: string;
  /** The connection; the session owns it. */
  protected readonly conn: Deno.Conn;
  #waitingSince: number | undefined;
  #reading = false;
  #stopping = false;
  #closed = false;

  /** Takes ownership of `conn`. */
  constructor(conn: Deno.Conn) {
    this.conn = conn;
    const { hostname, port } = conn.remoteAddr as Deno.NetAddr;
    this.peerHost = hostname;
    this.peer = `${hostname}:${port}`;
  }

  /**
   * When it began waiting on the peer (`Date.now()`), for bytes or for the
   * peer to take an answer; unset while the session works.
   */
  get waitingSince(): number | undefined {
    return this.#waitingSince;
  }

  /**
   * Stops: at once if waiting for the peer's bytes, else once the work in
   * hand is done (the session's loop checks {@link PeerLink.stopping}).
   */
  stop(): void {
    this.#stopping = true;
    if (this.#reading) this.close();
  }

  /** Closes the connection now; a pending read or write then fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.close();
  }

  /** Whether {@link PeerLink.stop} was called. */
  protected get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Whether `error` deserves a count and a log line: not once the
   * connection was closed here, nor when the peer just left.
   */
  protected unexpected(error: unknown): boolean {
    return !this.#closed && !peerLeft(error);
  }

  /** Awaits `io` (a write) as time spent waiting on the peer. */
  protected async waitOnPeer<T>(io: Promise<T>): Promise<T> {
    this.#waitingSince = Date.now();
    try {
      return await io;
    } finally {
      this.#waitingSince = undefined;
    }
  }

  /** Awaits `io` (a read) on the peer: a stop meanwhile closes at once. */
  protected async readFromPeer<T>(io: Promise<T>): Promise<T> {
    this.#reading = true;
    try {
      return await this.waitOnPeer(io);
    } finally {
      this.#reading = false;
    }
  }

  /**
   * Finishes a TLS handshake before the first read, so a failed one is
   * told apart from a broken request. Counts as waiting on the peer: the
   * idle timeout and `stop()` end a peer that never completes it.
   */
  protected async handshake(
    onError: ((error: unknown) => void) | undefined,
  ): Promise<boolean> {
    try {
      await this.readFromPeer((this.conn as Deno.TlsConn).handshake());
      return true;
    } catch (error) {
      if (!this.#closed) onError?.(error);
      return false;
    }
  }
}

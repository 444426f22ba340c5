/**
 * One HTTP/1.1 connection: reads each request's head within a deadline,
 * sets a small body aside, answers requests in order (keep-alive and
 * pipelining), writes bodies whole or chunked, and closes on the peer's
 * word, after a request it cannot serve, or past a timeout.
 *
 * Timeouts: the head (and body) of a request must arrive within
 * `headTimeoutMs` of the connection opening or of the request's first
 * byte; a kept-alive connection may wait `idleTimeoutMs` for its next
 * request; a write may wait `idleTimeoutMs` for the peer to take bytes.
 * Past any of them the connection is closed, unanswered.
 *
 * @module
 */

import { writeAll } from "../../internal/write_all.ts";
import type { HttpTimeoutKind } from "../counters.ts";
import {
  bodyFraming,
  headEnd,
  HttpError,
  MAX_HEAD_BYTES,
  parseHead,
  type RequestHead,
  requestUrl,
  wantsKeepAlive,
} from "./head.ts";
import {
  type Answer,
  chunk,
  errorAnswer,
  formatHead,
  httpDate,
  LAST_CHUNK,
} from "./wire.ts";

/** A request as the routes see it. */
export interface HttpRequest {
  /** `GET`, `HEAD`, ... */
  readonly method: string;
  /** The URL asked for. */
  readonly url: URL;
  /** The body (at most `MAX_BODY_BYTES`), empty when there is none. */
  readonly body: Uint8Array;
}

/** What a connection needs from its server. */
export interface ConnectionHooks {
  /**
   * Admits a request: `undefined` to answer it (then {@link leave} once
   * its answer was written), or the answer to send instead (a 503).
   */
  enter(): Answer | undefined;
  /** A request admitted by {@link enter} was answered or given up. */
  leave(): void;
  /** Answers an admitted request; never rejects. */
  answer(request: HttpRequest): Promise<Answer>;
  /** True once the server is closing: answer, then close. */
  closing(): boolean;
  /** Hears of a request that could not be served, then answered and closed. */
  badRequest(peer: string, error: HttpError): void;
  /** Hears of a connection closed by a timeout. */
  timedOut(kind: HttpTimeoutKind): void;
  /** Hears of an unexpected failure, which closed the connection. */
  failed(peer: string, error: unknown): void;
}

/** Timeouts of a connection, in ms. */
export interface ConnectionTimeouts {
  /** For a request's head and body to arrive. */
  readonly headMs: number;
  /** For the next request on a kept-alive connection, and for each write. */
  readonly idleMs: number;
}

/** How long closing waits for the peer to close its side too (ms). */
const LINGER_MS = 2000;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Errors that mean the peer left, or that we closed the connection. */
function isHangUp(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.NotConnected;
}

/** Serves one accepted connection until it closes. */
export class HttpConnection {
  /** `host:port` of the peer. */
  readonly peer: string;
  readonly #conn: Deno.Conn;
  readonly #hooks: ConnectionHooks;
  readonly #timeouts: ConnectionTimeouts;
  /** Bytes read and not yet used sit in `#buf[#start, #end)`. */
  readonly #buf = new Uint8Array(MAX_HEAD_BYTES);
  #start = 0;
  #end = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reading = true;
  #closed = false;
  /** Settles when the connection is closed. */
  readonly #gone = Promise.withResolvers<undefined>();

  /** Takes ownership of `conn`; call {@link run} to serve it. */
  constructor(
    conn: Deno.Conn,
    hooks: ConnectionHooks,
    timeouts: ConnectionTimeouts,
  ) {
    const { hostname, port } = conn.remoteAddr as Deno.NetAddr;
    this.peer = `${hostname}:${port}`;
    this.#conn = conn;
    this.#hooks = hooks;
    this.#timeouts = timeouts;
  }

  /** Whether it waits for a request (not answering one): closing ends it at once. */
  get reading(): boolean {
    return this.#reading;
  }

  /** Serves requests until the connection ends; never rejects. */
  async run(): Promise<void> {
    try {
      for (let first = true;; first = false) {
        let head: RequestHead;
        let url: URL;
        let body: Uint8Array | undefined;
        try {
          const bytes = await this.#readHead(first);
          if (bytes === undefined) return;
          head = parseHead(bytes);
          url = requestUrl(head);
          body = await this.#readBody(head);
        } catch (error) {
          if (!(error instanceof HttpError)) throw error;
          this.#hooks.badRequest(this.peer, error);
          await this.#send(errorAnswer(error.status, error.message), "GET");
          await this.#linger();
          return;
        }
        this.#disarm();
        this.#reading = false;
        const keep = wantsKeepAlive(head) && body !== undefined;
        const request = { method: head.method, url, body: body ?? EMPTY };
        if (!await this.#exchange(request, keep, head.minor)) {
          await this.#linger();
          return;
        }
        this.#reading = true;
      }
    } catch (error) {
      if (!this.#closed && !isHangUp(error)) {
        this.#hooks.failed(this.peer, error);
      }
    } finally {
      this.close();
    }
  }

  /** Closes the connection now; a pending read or write ends {@link run}. */
  close(): void {
    this.#disarm();
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
    this.#gone.resolve(undefined);
  }

  /**
   * Reads until a whole head is buffered; returns its bytes, or
   * `undefined` when the peer closed between requests.
   */
  async #readHead(first: boolean): Promise<Uint8Array | undefined> {
    const { headMs, idleMs } = this.#timeouts;
    let awaitingFirstByte = !first && this.#start === this.#end;
    this.#arm(awaitingFirstByte ? idleMs : headMs, awaitingFirstByte);
    for (;;) {
      const end = headEnd(this.#buf, this.#start, this.#end);
      if (end !== -1) {
        const bytes = this.#buf.subarray(this.#start, end);
        this.#start = end;
        return bytes;
      }
      if (this.#end - this.#start === this.#buf.length) {
        const lineEnds = this.#buf.includes(0x0a);
        throw lineEnds
          ? new HttpError(431, `the head is over ${MAX_HEAD_BYTES} bytes`)
          : new HttpError(
            414,
            `the request line is over ${MAX_HEAD_BYTES} bytes`,
          );
      }
      const count = await this.#fill();
      if (count === null) {
        if (this.#start === this.#end) return undefined;
        throw new Deno.errors.UnexpectedEof("the peer left mid-request");
      }
      if (awaitingFirstByte) {
        awaitingFirstByte = false;
        this.#arm(headMs, false);
      }
    }
  }

  /**
   * Reads the request's body, if any (at most `MAX_BODY_BYTES`: a form
   * posted to `/render`); `undefined` when it is left unread (chunked, or
   * the peer waits for 100-continue): the connection then closes after
   * the answer.
   */
  async #readBody(head: RequestHead): Promise<Uint8Array | undefined> {
    const framing = bodyFraming(head);
    if (framing.kind === "chunked") return undefined;
    if (framing.length > 0 && head.headers.has("expect")) return undefined;
    const body = new Uint8Array(framing.length);
    for (let at = 0; at < body.length;) {
      if (this.#start === this.#end && await this.#fill() === null) {
        throw new Deno.errors.UnexpectedEof("the peer left mid-body");
      }
      const taken = Math.min(body.length - at, this.#end - this.#start);
      body.set(this.#buf.subarray(this.#start, this.#start + taken), at);
      this.#start += taken;
      at += taken;
    }
    return body;
  }

  /** Reads more bytes into the buffer, moving the unused ones to its front. */
  async #fill(): Promise<number | null> {
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const count = await this.#conn.read(this.#buf.subarray(this.#end));
    if (count !== null) this.#end += count;
    return count;
  }

  /** Answers one request; whether the connection stays open after it. */
  async #exchange(
    request: HttpRequest,
    keepAlive: boolean,
    minor: 0 | 1,
  ): Promise<boolean> {
    const { method } = request;
    const refusal = this.#hooks.enter();
    try {
      // A connection closed meanwhile (shutdown) stops waiting for its answer.
      const answer = refusal ?? await Promise.race([
        this.#hooks.answer(request),
        this.#gone.promise,
      ]);
      if (answer === undefined) return false;
      const keep = keepAlive && answer.headers.connection !== "close" &&
        !this.#hooks.closing() &&
        (minor === 1 || !(answer.body instanceof ReadableStream));
      await this.#send(answer, method, keep, minor);
      return keep;
    } finally {
      if (refusal === undefined) this.#hooks.leave();
    }
  }

  /** Writes `answer`: head and body in one write, or the body chunked. */
  async #send(
    answer: Answer,
    method: string,
    keep = false,
    minor: 0 | 1 = 1,
  ): Promise<void> {
    const { body } = answer;
    const stream = body instanceof ReadableStream ? body : undefined;
    const whole = body instanceof ReadableStream ? undefined : body;
    const headers: Record<string, string> = {
      date: httpDate(Date.now()),
      ...answer.headers,
    };
    if (stream === undefined) {
      headers["content-length"] = String(whole?.length ?? 0);
    } else if (minor === 1) headers["transfer-encoding"] = "chunked";
    if (!keep) headers.connection = "close";
    else if (minor === 0) headers.connection = "keep-alive";
    const head = encoder.encode(formatHead(answer.status, headers));
    if (method === "HEAD" || stream === undefined) {
      await stream?.cancel();
      const skip = method === "HEAD" || !whole;
      await this.#write(skip ? head : concat(head, whole));
      return;
    }
    await this.#write(head);
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await this.#write(minor === 1 ? chunk(value) : value);
      }
      if (minor === 1) await this.#write(LAST_CHUNK);
    } catch (error) {
      // Tell the stream's source this reader is gone (a page that left).
      reader.cancel(error).catch(() => {});
      throw error;
    }
  }

  /** Writes `bytes`, closing the connection if the peer takes none for idleMs. */
  async #write(bytes: Uint8Array): Promise<void> {
    this.#arm(this.#timeouts.idleMs, true);
    await writeAll(this.#conn, bytes);
    this.#disarm();
  }

  /**
   * Closes our side, then reads until the peer closes too (for a while):
   * closing with unread bytes would reset the connection, and the peer
   * could lose the answer before reading it.
   */
  async #linger(): Promise<void> {
    if (this.#closed) return;
    try {
      await (this.#conn as Deno.TcpConn).closeWrite();
      this.#arm(LINGER_MS, undefined);
      while (await this.#conn.read(this.#buf) !== null) {
        // Set aside: nothing after an answer that closes is read.
      }
    } catch {
      // The peer reset or left already, or the linger ran out.
    }
  }

  /**
   * Closes the connection after `ms` unless disarmed first; a timeout is
   * reported as idle (`true`), head (`false`) or not at all (`undefined`).
   */
  #arm(ms: number, idle: boolean | undefined): void {
    this.#disarm();
    this.#timer = setTimeout(() => {
      if (idle !== undefined && !this.#closed) {
        this.#hooks.timedOut(idle ? "idle_timeout" : "head_timeout");
      }
      this.close();
    }, ms);
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** `a` then `b`, in one buffer. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

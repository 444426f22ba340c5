/**
 * HTTP to VictoriaMetrics: connection pools per store, a timeout for
 * silence (until the answer starts, then between pieces of its body, so a
 * long export that keeps coming is never cut), and retries with the
 * package's one backoff. Imports and exports to an `http:` URL go through
 * the package's own HTTP/1.1 client (`internal/http_client.ts`), a
 * fraction of `fetch`'s cost per request; `https:` uses `fetch`.
 *
 * @module
 */

import { backoffDelay } from "../../../internal/backoff.ts";
import { delay } from "../../../internal/delay.ts";
import { IdleDeadline } from "../../../internal/idle_deadline.ts";
import {
  type ClientRequest,
  HttpClient,
} from "../../../internal/http_client.ts";
import { StorageRefusal } from "../storage.ts";

/** First retry after about this long; each later one doubles it. */
const RETRY_BASE_MS = 100;
/** Longest pause between two attempts. */
const RETRY_MAX_MS = 2000;
/** How much of an error body a message quotes. */
const QUOTE_CHARS = 300;

/** One request for {@link VictoriaMetricsHttp.request}. */
export interface HttpRequest<T> {
  /** What the request is, for messages: `import`, `export`. */
  readonly what: string;
  /** The URL to fetch. */
  readonly url: string;
  /** The URL named in messages (without a long query). */
  readonly label: string;
  /** Method, body and headers. */
  readonly init?: RequestInit;
  /**
   * Reads a 2xx response into the result, calling `progress` for each
   * piece of the body that arrives (the timeout counts from the last).
   */
  readonly read: (response: Response, progress: () => void) => Promise<T>;
}

/** What reads a 2xx body: its pieces as they arrive, then the result. */
export interface BodySink<T> {
  /** Takes the next piece of the body (a view it may keep). */
  push(piece: Uint8Array): void;
  /** The body ended: what it held. */
  finish(): T;
}

/** One GET, or POST of a form, for {@link VictoriaMetricsHttp.stream}. */
export interface StreamRequest<T> {
  /** What the request is, for messages: `export`. */
  readonly what: string;
  /** The URL to GET, or POST `form` to. */
  readonly url: string;
  /** A form (`application/x-www-form-urlencoded`) to POST. */
  readonly form?: string;
  /** The URL named in messages (without a long query). */
  readonly label: string;
  /** A new sink for each attempt, so a retry starts afresh. */
  readonly sink: () => BodySink<T>;
}

/** One POST for {@link VictoriaMetricsHttp.post}. */
export interface PostRequest {
  /** What the request is, for messages: `import`. */
  readonly what: string;
  /** The URL to POST to. */
  readonly url: string;
  /** The URL named in messages. */
  readonly label: string;
  /** The body, sent as it is (not copied, so not changed until settled). */
  readonly body: Uint8Array<ArrayBuffer>;
  /** Its `content-type`. */
  readonly contentType: string;
}

/** Longest error body read before the request fails anyway. */
const MAX_ERROR_BODY = 1 << 20;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const FORM_TYPE = "application/x-www-form-urlencoded";

/** A non-2xx answer, named as it is in messages. */
class StatusError extends Error {}

/** The HTTP side of a VictoriaMetrics store. */
export class VictoriaMetricsHttp {
  readonly #client = Deno.createHttpClient({});
  readonly #http1 = new HttpClient();
  /** Aborts retry pauses when the store closes for good. */
  readonly #abort = new AbortController();
  readonly #timeoutMs: number;
  readonly #retries: number;
  #failedAttempts = 0;

  /**
   * @param timeoutMs Milliseconds VictoriaMetrics may stay silent: until
   * an answer starts, and between pieces of its body.
   * @param retries Retries of a failed request.
   */
  constructor(timeoutMs: number, retries: number) {
    this.#timeoutMs = timeoutMs;
    this.#retries = retries;
  }

  /** Failed attempts so far, each retry counted. */
  get failedAttempts(): number {
    return this.#failedAttempts;
  }

  /** GETs `url` once and returns its body; throws on failure or non-2xx. */
  async text(url: string): Promise<string> {
    using deadline = new IdleDeadline(this.#timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, {}, deadline.signal);
      text = await response.text();
    } catch (error) {
      throw new Error(
        `cannot reach VictoriaMetrics at ${url}: ${describe(error)}`,
        { cause: error },
      );
    }
    if (!response.ok) {
      throw new Error(
        `VictoriaMetrics at ${url} answered HTTP ${response.status}: ${
          text.slice(0, QUOTE_CHARS)
        }`,
      );
    }
    return text;
  }

  /**
   * Sends `request`, retrying a network error, timeout or non-2xx answer
   * up to `retries` times with backoff; resolves to what `read` made of
   * the first 2xx answer.
   *
   * @throws {Error} the last attempt's error, once every retry failed or
   * the store closed.
   */
  request<T>(request: HttpRequest<T>): Promise<T> {
    const { url, label, init, read } = request;
    return this.#withRetries(request.what, label, async () => {
      using deadline = new IdleDeadline(this.#timeoutMs);
      const response = await this.#fetch(url, init ?? {}, deadline.signal);
      deadline.progress();
      if (response.ok) return await read(response, () => deadline.progress());
      throw new StatusError(
        `HTTP ${response.status} from ${label}: ${
          (await response.text()).slice(0, QUOTE_CHARS)
        }`,
      );
    });
  }

  /**
   * GETs `request.url` (or POSTs its `form` there) like
   * {@link VictoriaMetricsHttp.request}, the answer's body uncompressed
   * and handed to a new `sink()` as it arrives, with the same retries;
   * resolves to what the sink made of the first 2xx body.
   *
   * @throws {StorageRefusal} at once, unretried, when the sink throws
   * one (an answer too large to take).
   * @throws {Error} the last attempt's error, once every retry failed or
   * the store closed.
   */
  stream<T>(request: StreamRequest<T>): Promise<T> {
    const { url, label, sink, form } = request;
    // fetch asks for gzip by default: VictoriaMetrics then compresses an
    // export and sends it in thousands of small pieces.
    const headers: Record<string, string> = form === undefined
      ? { "accept-encoding": "identity" }
      : { "accept-encoding": "identity", "content-type": FORM_TYPE };
    const method = form === undefined ? "GET" : "POST";
    const body = form === undefined ? undefined : encoder.encode(form);
    if (!url.startsWith("http:")) {
      return this.request({
        ...request,
        init: { method, headers, body },
        read: async (response, progress) => {
          const body = sink();
          const reader = response.body?.getReader();
          try {
            for (let chunk = await reader?.read(); chunk?.done === false;) {
              progress();
              body.push(chunk.value);
              chunk = await reader?.read();
            }
          } catch (error) {
            // A body not taken (too large, malformed) is not left open.
            await reader?.cancel().catch(() => {});
            throw error;
          }
          return body.finish();
        },
      });
    }
    const target = new URL(url);
    return this.#withRetries(request.what, label, async () => {
      const sunk = sink();
      await this.#exchange(
        { method, url: target, headers, body },
        label,
        (piece) => sunk.push(piece),
      );
      return sunk.finish();
    });
  }

  /**
   * POSTs `request.body` with the same retries as
   * {@link VictoriaMetricsHttp.request}; resolves once VictoriaMetrics
   * answered 2xx (its body is not kept).
   *
   * @throws {Error} the last attempt's error, once every retry failed or
   * the store closed.
   */
  post(request: PostRequest): Promise<void> {
    const { what, url, label, body, contentType } = request;
    const headers = { "content-type": contentType };
    if (!url.startsWith("http:")) {
      return this.request({
        what,
        url,
        label,
        init: { method: "POST", body, headers },
        // Read to its end, so the connection is kept alive.
        read: async (response) => {
          await response.arrayBuffer();
        },
      });
    }
    const target = new URL(url);
    return this.#withRetries(what, label, async () => {
      await this.#exchange(
        { method: "POST", url: target, headers, body },
        label,
        () => {},
      );
    });
  }

  /**
   * One request through the package's HTTP/1.1 client: a 2xx body's
   * pieces go to `ok`; any other answer throws, quoting its body.
   */
  async #exchange(
    request: Omit<ClientRequest, "maxBodyBytes" | "timeoutMs">,
    label: string,
    ok: (piece: Uint8Array) => void,
  ): Promise<void> {
    let error = "";
    let errorBytes = 0;
    const head = await this.#http1.request({
      ...request,
      maxBodyBytes: Infinity,
      timeoutMs: this.#timeoutMs,
    }, (piece, head) => {
      if (head.status < 300) return ok(piece);
      if ((errorBytes += piece.length) > MAX_ERROR_BODY) {
        throw new Error(`an error body of over ${MAX_ERROR_BODY} bytes`);
      }
      if (error.length < QUOTE_CHARS) error += decoder.decode(piece);
    });
    if (head.status < 200 || head.status >= 300) {
      throw new StatusError(
        `HTTP ${head.status} from ${label}: ${error.slice(0, QUOTE_CHARS)}`,
      );
    }
  }

  /**
   * Runs `attempt` until it succeeds, at most `retries` more times, with
   * backoff between; counts each failure.
   */
  async #withRetries<T>(
    what: string,
    label: string,
    attempt: () => Promise<T>,
  ): Promise<T> {
    let lastError: Error | undefined;
    for (let tries = 0; tries <= this.#retries; tries++) {
      if (tries > 0) {
        const pause = backoffDelay(tries - 1, RETRY_BASE_MS, RETRY_MAX_MS);
        if (await delay(pause, this.#abort.signal)) break;
      }
      try {
        return await attempt();
      } catch (error) {
        // An answer too large to take: asking again would not shrink it.
        if (error instanceof StorageRefusal) throw error;
        lastError = error instanceof StatusError ? error : new Error(
          `${what} request to ${label} failed: ${describe(error)}`,
          { cause: error },
        );
      }
      this.#failedAttempts++;
    }
    throw lastError ?? new Error("VictoriaMetrics storage is closed");
  }

  /** Stops retries and closes the connection pools. */
  close(): void {
    this.#abort.abort();
    this.#client.close();
    this.#http1.close();
  }

  #fetch(
    url: string,
    init: RequestInit,
    signal: AbortSignal,
  ): Promise<Response> {
    return fetch(url, { ...init, client: this.#client, signal });
  }
}

function describe(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return "timed out";
  }
  return error instanceof Error ? error.message : String(error);
}

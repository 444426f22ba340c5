/**
 * HTTP to VictoriaMetrics: one connection pool per store, a timeout for
 * silence (until the answer starts, then between pieces of its body, so a
 * long export that keeps coming is never cut), and retries with the
 * package's one backoff.
 *
 * @module
 */

import { backoffDelay } from "../../../internal/backoff.ts";
import { delay } from "../../../internal/delay.ts";
import { IdleDeadline } from "../../../internal/idle_deadline.ts";

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

/** The HTTP side of a VictoriaMetrics store. */
export class VictoriaMetricsHttp {
  readonly #client = Deno.createHttpClient({});
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
  async request<T>(request: HttpRequest<T>): Promise<T> {
    const { what, url, label, init, read } = request;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) {
        const pause = backoffDelay(attempt - 1, RETRY_BASE_MS, RETRY_MAX_MS);
        if (await delay(pause, this.#abort.signal)) break;
      }
      using deadline = new IdleDeadline(this.#timeoutMs);
      try {
        const response = await this.#fetch(url, init ?? {}, deadline.signal);
        deadline.progress();
        if (response.ok) {
          return await read(response, () => deadline.progress());
        }
        lastError = new Error(
          `HTTP ${response.status} from ${label}: ${
            (await response.text()).slice(0, QUOTE_CHARS)
          }`,
        );
      } catch (error) {
        lastError = new Error(
          `${what} request to ${label} failed: ${describe(error)}`,
          { cause: error },
        );
      }
      this.#failedAttempts++;
    }
    throw lastError ?? new Error("VictoriaMetrics storage is closed");
  }

  /** Stops retries and closes the connection pool. */
  close(): void {
    this.#abort.abort();
    this.#client.close();
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

/**
 * A scripted TCP server for tests: each accepted connection runs a script
 * that checks the exact bytes received and answers exact bytes, split or
 * merged as the test wants.
 *
 * @module
 */

import { assertEquals, assertMatch } from "@std/assert";

const encoder = new TextEncoder();

/** One accepted connection, as seen by a script. */
export class StubConn {
  readonly #conn: Deno.TcpConn;
  readonly #decoder = new TextDecoder();
  readonly #buf = new Uint8Array(64 * 1024);
  /** Received and not yet consumed by `expect` or `readLine`. */
  #unread = "";
  /** Every byte received, decoded. */
  received = "";
  /** How many `read` calls returned data (to observe coalesced writes). */
  reads = 0;
  /** The largest number of request lines that arrived in one read. */
  maxLinesPerRead = 0;

  /** @param conn The accepted socket. */
  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    conn.setNoDelay(true);
  }

  /** Reads one chunk; false at end of stream. */
  async #fill(): Promise<boolean> {
    const n = await this.#conn.read(this.#buf);
    if (n === null) return false;
    const text = this.#decoder.decode(this.#buf.subarray(0, n), {
      stream: true,
    });
    this.reads++;
    this.maxLinesPerRead = Math.max(
      this.maxLinesPerRead,
      text.split("\n").length - 1,
    );
    this.received += text;
    this.#unread += text;
    return true;
  }

  /** Reads until `text` arrived and asserts it is exactly what came next. */
  async expect(text: string): Promise<void> {
    while (this.#unread.length < text.length) {
      if (!await this.#fill()) break;
    }
    assertEquals(this.#unread.slice(0, text.length), text);
    this.#unread = this.#unread.slice(text.length);
  }

  /** The next line without its `\n`, or `null` when the client closed. */
  async readLine(): Promise<string | null> {
    for (;;) {
      const nl = this.#unread.indexOf("\n");
      if (nl !== -1) {
        const line = this.#unread.slice(0, nl);
        this.#unread = this.#unread.slice(nl + 1);
        return line;
      }
      if (!await this.#fill()) return null;
    }
  }

  /** Reads the next line and asserts it matches `pattern` (a put's timestamp varies). */
  async expectLine(pattern: RegExp): Promise<void> {
    const line = await this.readLine();
    assertMatch(line ?? "(the client closed)", pattern);
  }

  /** Waits until the client closes; asserts it sent nothing more. */
  async expectEnd(): Promise<void> {
    while (await this.#fill());
    assertEquals(this.#unread, "", "the client sent unexpected bytes");
  }

  /** Writes `text` in one write. */
  async send(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    for (let off = 0; off < bytes.length;) {
      off += await this.#conn.write(bytes.subarray(off));
    }
  }

  /** Writes `text` `size` bytes at a time, pausing so TCP splits it. */
  async sendSplit(text: string, size = 1): Promise<void> {
    const bytes = encoder.encode(text);
    for (let off = 0; off < bytes.length; off += size) {
      await this.#conn.write(bytes.subarray(off, off + size));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Answers each request line with `answer(line)` until the client closes. */
  async respond(answer: (line: string) => string): Promise<void> {
    for (let line = await this.readLine(); line !== null;) {
      await this.send(answer(line));
      line = await this.readLine();
    }
  }

  /** Closes the socket (the client sees EOF); safe to call twice. */
  close(): void {
    try {
      this.#conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }
}

/** A script run for each accepted connection; `index` counts from 0. */
export type Script = (conn: StubConn, index: number) => Promise<void>;

/** How long disposing lets running scripts end by themselves before cutting them. */
const GRACE_MS = 2000;

/**
 * Listens on 127.0.0.1 (port 0 unless given) and runs `script` for each
 * connection. `close`, `finish` and disposing rethrow the first failure of
 * any script, whenever it happened, closing included: only the read or
 * write errors of a script that `close` cut are not failures. Disposing
 * (`await using`) first lets the running scripts end by themselves, so a
 * script's closing `expectEnd` sees the client close.
 */
export class StubServer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #script: Script;
  readonly #conns = new Set<StubConn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #acceptLoop: Promise<void>;
  #errors: unknown[] = [];
  #closed = false;
  /** Connections accepted so far. */
  accepted = 0;

  /** @param script Run for each connection. @param port 0 for a free one. */
  constructor(script: Script, port = 0) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port });
    this.#script = script;
    this.#acceptLoop = this.#accept();
  }

  /** The port the server listens on. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Every connection accepted so far, oldest first. */
  get conns(): StubConn[] {
    return [...this.#conns];
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const stub = new StubConn(conn);
        this.#conns.add(stub);
        const task = this.#script(stub, this.accepted++)
          .catch((error) => {
            // A read or write that closing cut is not the script failing.
            if (!(this.#closed && isCutError(error))) this.#errors.push(error);
          })
          .finally(() => stub.close());
        this.#tasks.add(task);
      }
    } catch (error) {
      if (!(this.#closed && isCutError(error))) this.#errors.push(error);
    }
  }

  /**
   * Closes the listener and every connection now (the server goes away),
   * waits for the scripts, and rethrows the first failure of any.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listener.close();
    }
    for (const conn of this.#conns) conn.close();
    await this.#acceptLoop;
    await Promise.all(this.#tasks);
    this.#rethrow();
  }

  /** Waits for every script to finish by itself, then closes. */
  async finish(): Promise<void> {
    await Promise.all(this.#tasks);
    await this.close();
  }

  #rethrow(): void {
    const [first] = this.#errors;
    this.#errors = [];
    if (first !== undefined) throw first;
  }

  /** Lets the scripts end by themselves for up to 2 s, then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(this.#tasks),
      new Promise((resolve) => timer = setTimeout(resolve, GRACE_MS)),
    ]);
    clearTimeout(timer);
    await this.close();
  }
}

/** An error a socket operation throws once its socket was closed under it. */
function isCutError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe;
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port with nothing listening on it (bound once, then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

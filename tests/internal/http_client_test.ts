/**
 * The package's HTTP/1.1 client against stub servers on loopback: bodies
 * read whole, connections kept alive and reused, and each failure (a
 * server that closes mid-answer, an oversized answer, a silent server, a
 * refused connection) a clear error.
 */

import { assertEquals, assertRejects } from "@std/assert";
import { HttpClient } from "../../src/internal/http_client.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A server on a free loopback port that answers each request read on a
 * connection with `answer(index)` (written in the pieces given, with a
 * pause between), then closes the connection when `close` says so.
 */
class StubServer implements AsyncDisposable {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly #sessions = new Set<Promise<void>>();
  readonly #serving: Promise<void>;
  /** Connections accepted. */
  accepted = 0;
  /** Request heads read. */
  readonly requests: string[] = [];

  constructor(
    answer: (
      index: number,
    ) => { pieces: string[]; pauseMs?: number; close?: boolean },
  ) {
    this.#serving = (async () => {
      for await (const conn of this.#listener) {
        this.accepted++;
        this.#conns.add(conn);
        const session = this.#session(conn, answer).finally(() => {
          this.#conns.delete(conn);
          this.#sessions.delete(session);
        });
        this.#sessions.add(session);
      }
    })();
  }

  get url(): URL {
    return new URL(
      `http://127.0.0.1:${this.#listener.addr.port}/api/v1/export?a=b`,
    );
  }

  async #session(
    conn: Deno.Conn,
    answer: (
      index: number,
    ) => { pieces: string[]; pauseMs?: number; close?: boolean },
  ): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let text = "";
    try {
      for (let served = 0; served < 100;) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += decoder.decode(buf.subarray(0, n));
        const end = text.indexOf("\r\n\r\n");
        if (end === -1) continue;
        this.requests.push(text.slice(0, end));
        text = text.slice(end + 4);
        const { pieces, pauseMs = 0, close = false } = answer(
          this.requests.length - 1,
        );
        for (const piece of pieces) {
          await conn.write(encoder.encode(piece));
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        }
        served++;
        if (close) break;
      }
    } catch {
      // the client went away
    } finally {
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
    await this.#serving.catch(() => {});
    // Sessions end at their next write or pause (at most one pause).
    await Promise.all(this.#sessions);
  }
}

/** GETs `url` and returns the status and body as text. */
async function get(
  client: HttpClient,
  url: URL,
  options: { maxBodyBytes?: number; timeoutMs?: number } = {},
): Promise<[number, string]> {
  let body = "";
  const head = await client.request({
    method: "GET",
    url,
    headers: { "accept-encoding": "identity" },
    maxBodyBytes: options.maxBodyBytes ?? 1 << 20,
    timeoutMs: options.timeoutMs ?? 5000,
  }, (piece) => {
    body += decoder.decode(piece, { stream: true });
  });
  return [head.status, body];
}

const CHUNKED_HEAD = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

Deno.test("a chunked answer written in small pieces reads whole, and the connection is reused", async () => {
  const lines = Array.from({ length: 200 }, (_, i) => `{"line":${i}}\n`);
  await using server = new StubServer(() => ({
    pieces: [
      CHUNKED_HEAD,
      ...lines.map((line) => `${line.length.toString(16)}\r\n${line}\r\n`),
      "0\r\n\r\n",
    ],
  }));
  const client = new HttpClient();
  try {
    for (let i = 0; i < 3; i++) {
      assertEquals(await get(client, server.url), [200, lines.join("")]);
    }
    assertEquals(server.accepted, 1);
    assertEquals(
      server.requests[0],
      `GET /api/v1/export?a=b HTTP/1.1\r\nhost: ${server.url.host}\r\naccept-encoding: identity`,
    );
  } finally {
    client.close();
  }
});

Deno.test("a non-2xx answer's status and body come back", async () => {
  await using server = new StubServer(() => ({
    pieces: ["HTTP/1.1 400 Bad Request\r\nContent-Length: 9\r\n\r\nbad query"],
  }));
  const client = new HttpClient();
  try {
    assertEquals(await get(client, server.url), [400, "bad query"]);
  } finally {
    client.close();
  }
});

Deno.test("a kept-alive connection the server closed is replaced without an error", async () => {
  await using server = new StubServer(() => ({
    pieces: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
    close: true, // without saying so in a Connection header
  }));
  const client = new HttpClient();
  try {
    assertEquals(await get(client, server.url), [200, "ok"]);
    await new Promise((r) => setTimeout(r, 50));
    assertEquals(await get(client, server.url), [200, "ok"]);
    assertEquals(server.accepted, 2);
  } finally {
    client.close();
  }
});

Deno.test("a server that closes in the middle of the answer is an error saying so", async () => {
  await using server = new StubServer(() => ({
    pieces: ["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"],
    close: true,
  }));
  const client = new HttpClient();
  try {
    await assertRejects(
      () => get(client, server.url),
      Error,
      "closed in the middle of the body (9 of 100 bytes)",
    );
  } finally {
    client.close();
  }
});

Deno.test("a server that closes in the middle of a chunked answer is an error saying so", async () => {
  await using server = new StubServer(() => ({
    pieces: [CHUNKED_HEAD, "10\r\nonly eight"],
    close: true,
  }));
  const client = new HttpClient();
  try {
    await assertRejects(
      () => get(client, server.url),
      Error,
      "closed in the middle of the chunked body",
    );
  } finally {
    client.close();
  }
});

Deno.test("an answer over the size bound is an error, and its connection is not reused", async () => {
  const big = "x".repeat(300_000);
  await using server = new StubServer(() => ({
    pieces: [CHUNKED_HEAD, `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`],
  }));
  const client = new HttpClient();
  try {
    await assertRejects(
      () => get(client, server.url, { maxBodyBytes: 100_000 }),
      Error,
      "the response body is longer than 100000 bytes",
    );
    assertEquals(await get(client, server.url), [200, big]);
    assertEquals(server.accepted, 2);
  } finally {
    client.close();
  }
});

Deno.test("a server silent past the timeout is an error, before the answer and in the middle of it", async () => {
  await using silent = new StubServer(() => ({ pieces: [] }));
  await using slow = new StubServer(() => ({
    pieces: [CHUNKED_HEAD, "2\r\nab\r\n", "0\r\n\r\n"],
    pauseMs: 1000,
  }));
  const client = new HttpClient();
  try {
    for (const server of [silent, slow]) {
      const started = performance.now();
      await assertRejects(
        () => get(client, server.url, { timeoutMs: 200 }),
        Error,
        "timed out: 200 ms without a byte",
      );
      const took = performance.now() - started;
      assertEquals(took >= 190 && took < 900, true, `took ${took} ms`);
    }
  } finally {
    client.close();
  }
});

Deno.test("a slow answer that keeps coming is not cut by the timeout", async () => {
  await using server = new StubServer(() => ({
    pieces: [
      CHUNKED_HEAD,
      "1\r\na\r\n",
      "1\r\nb\r\n",
      "1\r\nc\r\n",
      "0\r\n\r\n",
    ],
    pauseMs: 120,
  }));
  const client = new HttpClient();
  try {
    assertEquals(await get(client, server.url, { timeoutMs: 300 }), [
      200,
      "abc",
    ]);
  } finally {
    client.close();
  }
});

Deno.test("a refused connection is an error", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = new URL(`http://127.0.0.1:${probe.addr.port}/`);
  probe.close();
  const client = new HttpClient();
  try {
    await assertRejects(() => get(client, url), Deno.errors.ConnectionRefused);
  } finally {
    client.close();
  }
});

Deno.test("a closed client refuses requests", async () => {
  const client = new HttpClient();
  client.close();
  await assertRejects(
    () => get(client, new URL("http://127.0.0.1:1/")),
    Error,
    "the HTTP client is closed",
  );
});

Deno.test("a POST's body arrives whole after its head, twice on one kept-alive connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const bodies: Uint8Array[] = [];
  let accepted = 0;
  const serving = (async () => {
    const conn = await listener.accept();
    accepted++;
    let pending = new Uint8Array(0);
    const buf = new Uint8Array(1 << 16);
    try {
      while (bodies.length < 2) {
        const n = await conn.read(buf);
        if (n === null) break;
        const joined = new Uint8Array(pending.length + n);
        joined.set(pending);
        joined.set(buf.subarray(0, n), pending.length);
        pending = joined;
        const text = decoder.decode(pending.subarray(0, 4096));
        const end = text.indexOf("\r\n\r\n");
        if (end === -1) continue;
        const length = Number(/content-length: (\d+)/.exec(text)?.[1]);
        if (pending.length < end + 4 + length) continue;
        bodies.push(pending.slice(end + 4, end + 4 + length));
        pending = pending.slice(end + 4 + length);
        await conn.write(encoder.encode("HTTP/1.1 204 No Content\r\n\r\n"));
      }
    } finally {
      conn.close();
    }
  })();
  const sent = [1 << 20, 3].map((size) =>
    Uint8Array.from({ length: size }, (_, i) => (i * 7919) & 0xff)
  );
  const client = new HttpClient();
  try {
    for (const body of sent) {
      const head = await client.request({
        method: "POST",
        url: new URL(`http://127.0.0.1:${listener.addr.port}/api/v1/import`),
        headers: { "content-type": "application/json" },
        body,
        maxBodyBytes: 1024,
        timeoutMs: 5000,
      }, () => {});
      assertEquals(head.status, 204);
    }
  } finally {
    client.close();
    listener.close();
    await serving;
  }
  assertEquals(bodies, sent);
  assertEquals(accepted, 1);
});

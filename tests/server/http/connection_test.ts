/**
 * HTTP/1.1 as the server speaks it, against real sockets: keep-alive and
 * pipelining, HTTP/1.0, HEAD, bodies set aside, live streams chunked, and
 * the 4xx and close a head that is not HTTP gets, with its log line
 * throttled.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { type MetricsServer, serve } from "../../../src/server/mod.ts";
import { HttpSocket } from "../../helpers/http.ts";

async function start(
  log: (message: string) => void = () => {},
): Promise<MetricsServer & { httpPort: number }> {
  const server = await serve({ port: 0, log, http: { port: 0 } });
  return Object.assign(server, { httpPort: server.http!.port });
}

const GET = (path: string, extra = "") =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

Deno.test("two requests on one kept-alive connection are both answered", async () => {
  await using server = await start();
  await using socket = await HttpSocket.connect(server.httpPort);
  await socket.send(GET("/api/keys"));
  const first = await socket.answer();
  assertEquals(first.status, 200);
  assertEquals(first.headers.get("connection"), undefined);
  assertEquals(JSON.parse(first.body).total, 0);
  await socket.send(GET("/nowhere"));
  assertEquals((await socket.answer()).status, 404);
});

Deno.test("pipelined requests are answered in order", async () => {
  await using server = await start();
  await using socket = await HttpSocket.connect(server.httpPort);
  await socket.send(
    GET("/api/keys") + GET("/nowhere") +
      GET("/metrics", "Connection: close\r\n"),
  );
  assertEquals((await socket.answer()).status, 200);
  assertEquals((await socket.answer()).status, 404);
  const last = await socket.answer();
  assertEquals(last.status, 200);
  assertMatch(last.body, /metrics_connections_open/);
  assertEquals(last.headers.get("connection"), "close");
  assertEquals(await socket.rest(), "");
});

Deno.test("HTTP/1.0 gets its answer and a close, unless it asks to keep the connection", async () => {
  await using server = await start();
  await using plain = await HttpSocket.connect(server.httpPort);
  await plain.send("GET /api/keys HTTP/1.0\r\n\r\n");
  assertEquals((await plain.answer()).status, 200);
  assertEquals(await plain.rest(), "");
  await using kept = await HttpSocket.connect(server.httpPort);
  await kept.send("GET /api/keys HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const answer = await kept.answer();
  assertEquals(answer.headers.get("connection"), "keep-alive");
  await kept.send("GET /nowhere HTTP/1.0\r\n\r\n");
  assertEquals((await kept.answer()).status, 404);
});

Deno.test("HEAD gets the head of GET's answer, with its length, and no body", async () => {
  await using server = await start();
  await using socket = await HttpSocket.connect(server.httpPort);
  await socket.send(GET("/app.js"));
  const got = await socket.answer();
  await socket.send(
    `HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\n` + GET("/nowhere"),
  );
  const head = await socket.answer(true);
  assertEquals(head.status, 200);
  assertEquals(head.headers.get("content-length"), String(got.body.length));
  assertEquals(head.body, "");
  // Nothing of a body came between: the next answer follows at once.
  assertEquals((await socket.answer()).status, 404);
});

Deno.test("a request body is set aside: the 405 comes and the connection serves the next request", async () => {
  await using server = await start();
  await using socket = await HttpSocket.connect(server.httpPort);
  await socket.send(
    "POST /api/keys HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nput a 1 1" +
      GET("/api/keys"),
  );
  const refused = await socket.answer();
  assertEquals(refused.status, 405);
  assertEquals(refused.headers.get("allow"), "GET, HEAD");
  assertEquals((await socket.answer()).status, 200);
});

Deno.test("a request with a chunked body is answered, then the connection closes", async () => {
  await using server = await start();
  await using socket = await HttpSocket.connect(server.httpPort);
  await socket.send(
    "POST /api/keys HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nput a 1 1\r\n0\r\n\r\n",
  );
  const answer = await socket.answer();
  assertEquals(answer.status, 405);
  assertEquals(answer.headers.get("connection"), "close");
  assertEquals(await socket.rest(), "");
});

Deno.test("a live stream is sent chunked", async () => {
  await using server = await start();
  await using socket = await HttpSocket.connect(server.httpPort);
  await socket.send(GET("/api/events"));
  const answer = await socket.answer(true);
  assertEquals(answer.status, 200);
  assertEquals(answer.headers.get("transfer-encoding"), "chunked");
  assertEquals(
    answer.headers.get("content-type"),
    "text/event-stream; charset=utf-8",
  );
  await server.close();
  // The first chunk, then the last one once closing ends the stream.
  assertEquals(
    await socket.rest(),
    "19\r\nretry: 1000\n: connected\n\n\r\n0\r\n\r\n",
  );
});

Deno.test("a bad Host header is a 400, not a 500, and is logged at most once a minute per address", async () => {
  const logged: string[] = [];
  await using server = await start((line) => logged.push(line));
  const hosts = [
    "a b",
    "x:99999",
    "[::1",
    "x:abc",
    "999.999.999.999",
    "x%00",
    "xn--",
  ];
  for (const host of hosts) {
    await using socket = await HttpSocket.connect(server.httpPort);
    await socket.send(`GET /api/keys HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const answer = await socket.answer();
    assertEquals(answer.status, 400, host);
    assertMatch(JSON.parse(answer.body).error, /Host/, host);
    assertEquals(answer.headers.get("connection"), "close", host);
    assertEquals(await socket.rest(), "", host);
  }
  assertEquals(logged.length, 1, logged.join("\n"));
  assertMatch(
    logged[0],
    /^answered a bad HTTP request from 127\.0\.0\.1: .*logged at most once a minute$/,
  );
  const metrics = await (await fetch(`${server.http!.url}metrics`)).text();
  assertMatch(
    metrics,
    new RegExp(`\nmetrics_http_bad_requests_total ${hosts.length}\n`),
  );
});

Deno.test("a head that is not HTTP/1.x within limits gets its 4xx, then a close", async () => {
  await using server = await start();
  const cases: [string, number][] = [
    ["GET / HTTP/2.0\r\n\r\n", 505],
    ["hello\r\n\r\n", 400],
    [`GET /${"a".repeat(20_000)} HTTP/1.1\r\n\r\n`, 414],
    [`GET / HTTP/1.1\r\nX: ${"a".repeat(20_000)}\r\n\r\n`, 431],
    ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 413],
  ];
  for (const [request, status] of cases) {
    await using socket = await HttpSocket.connect(server.httpPort);
    await socket.send(request);
    const answer = await socket.answer();
    assertEquals(answer.status, status, request.slice(0, 30));
    assert(JSON.parse(answer.body).error.length > 0);
    assertEquals(await socket.rest(), "");
  }
});

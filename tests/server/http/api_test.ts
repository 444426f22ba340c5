/**
 * The HTTP side against a real server: the JSON API, its 400s, the page's
 * files and nothing else, `/metrics`, live events, and every backend.
 */

import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "@std/assert";
import { Client } from "../../../mod.ts";
import {
  type MetricsServer,
  serve,
  type ServerOptions,
  VictoriaMetricsStore,
} from "../../../src/server/mod.ts";
import { RawSocket } from "../../helpers/server.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../../helpers/victoriametrics.ts";

async function start(
  options: ServerOptions = {},
): Promise<MetricsServer & { url: string }> {
  const server = await serve({
    port: 0,
    log: () => {},
    http: { port: 0 },
    ...options,
  });
  return Object.assign(server, { url: server.http!.url });
}

async function put(
  server: MetricsServer,
  points: [string, number, number][],
): Promise<void> {
  await using client = new Client(server.hostname, server.port);
  await Promise.all(
    points.map(([key, value, timestamp]) =>
      client.put(key, value, { timestamp })
    ),
  );
}

async function getJson(url: string): Promise<[number, unknown]> {
  const response = await fetch(url);
  assertEquals(
    response.headers.get("content-type"),
    "application/json; charset=utf-8",
  );
  return [response.status, await response.json()];
}

Deno.test("the HTTP port binds 127.0.0.1 unless told otherwise", async () => {
  await using server = await start();
  assertEquals(server.http?.hostname, "127.0.0.1");
  assertMatch(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});

Deno.test("without the http option no HTTP side runs", async () => {
  await using server = await serve({ port: 0, log: () => {} });
  assertEquals(server.http, undefined);
});

Deno.test("/api/keys lists every key put, with its count, last point and sparkline", async () => {
  await using server = await start();
  await put(server, [["b.cpu", 1, 100], ["b.cpu", 3, 101], ["a.mem", 7, 50]]);
  const [status, body] = await getJson(`${server.url}api/keys?points=5`);
  assertEquals(status, 200);
  const { keys, total, truncated } = body as {
    keys: unknown[];
    total: number;
    truncated: boolean;
  };
  assertEquals({ total, truncated }, { total: 2, truncated: false });
  assertEquals(keys, [
    {
      key: "b.cpu",
      count: 2,
      last: { timestamp: 101, value: 3 },
      spark: [1, 3],
    },
    { key: "a.mem", count: 1, last: { timestamp: 50, value: 7 }, spark: [7] },
  ]);
});

Deno.test("/api/keys filters by match and bounds the list by limit", async () => {
  await using server = await start();
  await put(server, [["web.1", 1, 1], ["web.2", 1, 1], ["db.1", 1, 1]]);
  const [, body] = await getJson(`${server.url}api/keys?match=web&limit=1`);
  const answer = body as { keys: { key: string }[]; total: number };
  assertEquals(answer.keys.map((entry) => entry.key), ["web.1"]);
  assertEquals(answer.total, 2);
  assertEquals((body as { truncated: boolean }).truncated, true);
});

Deno.test("/api/series reduces a range to about N points with min and max", async () => {
  await using server = await start();
  const points: [string, number, number][] = [];
  for (let t = 0; t < 1000; t++) points.push(["cpu", t % 10, 1000 + t]);
  await put(server, points);
  const [status, body] = await getJson(
    `${server.url}api/series?key=cpu&from=1000&to=1999&points=100`,
  );
  assertEquals(status, 200);
  const answer = body as {
    key: string;
    count: number;
    timestamps: number[];
    values: number[];
    min: number[];
    max: number[];
  };
  assertEquals(answer.key, "cpu");
  assertEquals(answer.count, 1000);
  assertEquals(answer.timestamps.length, 100);
  assertEquals(answer.timestamps.slice(0, 2), [1000, 1010]);
  assertEquals(new Set(answer.min), new Set([0]));
  assertEquals(new Set(answer.max), new Set([9]));
  assertEquals(new Set(answer.values), new Set([4.5]));
});

Deno.test("/api/series of a key never put is empty, not an error", async () => {
  await using server = await start();
  const [status, body] = await getJson(`${server.url}api/series?key=none`);
  assertEquals(status, 200);
  assertEquals(body, {
    key: "none",
    count: 0,
    timestamps: [],
    values: [],
    min: [],
    max: [],
  });
});

Deno.test("bad query parameters get a 400 with a JSON message", async () => {
  await using server = await start();
  const cases: [string, RegExp][] = [
    ["api/series", /key is required/],
    ["api/series?key=*", /key must be one metric name/],
    ["api/series?key=a%20b", /key must be one metric name/],
    ["api/series?key=a%00", /key must be one metric name/],
    ["api/series?key=a&points=0", /points must be an integer from 1 to 10000/],
    ["api/series?key=a&points=10001", /points must be an integer/],
    ["api/series?key=a&points=1.5", /points must be an integer/],
    ["api/series?key=a&from=x", /from must be an integer/],
    ["api/series?key=a&to=1e400", /to must be an integer/],
    ["api/series?key=a&from=9999999999999999", /from must be an integer/],
    ["api/series?key=a&from=5&to=4", /from \(5\) must not be after to \(4\)/],
    ["api/keys?limit=-1", /limit must be an integer from 1 to 10000/],
    ["api/keys?points=101", /points must be an integer from 1 to 100/],
    [`api/keys?match=${"x".repeat(257)}`, /match must be at most 256/],
  ];
  for (const [path, message] of cases) {
    const [status, body] = await getJson(server.url + path);
    assertEquals(status, 400, path);
    assertMatch((body as { error: string }).error, message, path);
  }
});

Deno.test("no request reads a file outside the served assets", async () => {
  await using server = await start();
  for (
    const path of [
      "deno.json",
      "../deno.json",
      "%2e%2e/%2e%2e/deno.json",
      "..%2f..%2fdeno.json",
      "page/index.html",
      "src/server/http/page/app.js",
      "app.js/",
      "app.js%00",
      "//etc/passwd",
    ]
  ) {
    const [status] = await getJson(server.url + path);
    assertEquals(status, 404, path);
  }
  // The same paths, sent raw so no client normalizes the dots away.
  const port = server.http!.port;
  for (
    const target of ["/../deno.json", "/..%2fdeno.json", "/../../etc/passwd"]
  ) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      new TextEncoder().encode(
        `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
      ),
    );
    const answer = await new Response(conn.readable).text();
    assert(!answer.includes('"imports"') && !answer.includes("root:"), target);
    assertMatch(answer, /^HTTP\/1\.1 (404|400)/, target);
  }
});

Deno.test("the page and its scripts and styles are served from memory", async () => {
  await using server = await start();
  for (
    const [path, type] of [
      ["", "text/html; charset=utf-8"],
      ["app.js", "text/javascript; charset=utf-8"],
      ["uPlot.js", "text/javascript; charset=utf-8"],
      ["app.css", "text/css; charset=utf-8"],
      ["uPlot.css", "text/css; charset=utf-8"],
    ]
  ) {
    const response = await fetch(server.url + path);
    assertEquals(response.status, 200, path);
    assertEquals(response.headers.get("content-type"), type, path);
    assertStringIncludes(
      response.headers.get("content-security-policy") ?? "",
      "default-src 'self'",
    );
    assert((await response.text()).length > 100, path);
  }
});

Deno.test("methods other than GET and HEAD get a 405 naming the allowed ones", async () => {
  await using server = await start();
  const response = await fetch(`${server.url}api/keys`, {
    method: "POST",
    body: "put a 1 1",
  });
  assertEquals(response.status, 405);
  assertEquals(response.headers.get("allow"), "GET, HEAD");
  assertMatch((await response.json()).error, /only GET and HEAD/);
});

Deno.test("an overlong URL gets a 414", async () => {
  await using server = await start();
  const [status] = await getJson(
    `${server.url}api/keys?match=${"x".repeat(9000)}`,
  );
  assertEquals(status, 414);
});

Deno.test("/metrics counts connections, requests by command, errors and stored points", async () => {
  await using server = await start();
  await using socket = await RawSocket.connect(server.port);
  await socket.send("put a 1 1\nput a 2 2\nput b 1 1\nget a\nnonsense\n");
  await socket.responses(5);
  const response = await fetch(`${server.url}metrics`);
  assertEquals(
    response.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  const text = await response.text();
  for (
    const line of [
      "metrics_connections_open 1",
      "metrics_connections_accepted_total 1",
      'metrics_connections_refused_total{reason="max_connections"} 0',
      "metrics_tls_handshake_failures_total 0",
      'metrics_requests_total{command="put"} 3',
      'metrics_requests_total{command="get"} 1',
      'metrics_requests_total{command="invalid"} 1',
      'metrics_errors_total{kind="invalid"} 1',
      "metrics_puts_stored_total 3",
      "metrics_keys_stored 2",
      "metrics_points_stored 3",
    ]
  ) {
    assertStringIncludes(text, `\n${line}\n`);
  }
});

Deno.test("/metrics counts refused connections past maxConnections", async () => {
  await using server = await start({ maxConnections: 1 });
  await using first = await RawSocket.connect(server.port);
  await first.send("get a\n");
  await first.responses(1);
  await using second = await RawSocket.connect(server.port);
  assertEquals(await second.rest(), "");
  const text = await (await fetch(`${server.url}metrics`)).text();
  assertStringIncludes(
    text,
    '\nmetrics_connections_refused_total{reason="max_connections"} 1\n',
  );
});

/** Bytes of every file under `dir`, as `du -b` counts files. */
async function treeBytes(dir: string): Promise<number> {
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    bytes += entry.isDirectory
      ? await treeBytes(path)
      : (await Deno.stat(path)).size;
  }
  return bytes;
}

Deno.test("/metrics shows the data directory's size, no damage, and fsync latencies with a data directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using server = await start({ dataDir: dir });
    await put(server, [["a", 1, 1], ["b", 2, 2]]);
    const text = await (await fetch(`${server.url}metrics`)).text();
    const bytes = await treeBytes(dir);
    // The lock, the WAL's magic and two puts' frame at least.
    assert(bytes > 40, `${bytes} bytes`);
    assertStringIncludes(text, `\nmetrics_data_bytes ${bytes}\n`);
    assertStringIncludes(text, "\nmetrics_storage_damaged_chunks_total 0\n");
    const count = Number(
      text.match(/\nmetrics_fsync_duration_seconds_count (\d+)\n/)?.[1],
    );
    assert(count >= 1, text);
    assertStringIncludes(
      text,
      `\nmetrics_fsync_duration_seconds_bucket{le="+Inf"} ${count}\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Reads an event stream until `done` says so or 5 s pass. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  done: (text: string) => boolean,
): Promise<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => reader.cancel(), 5000);
  let text = "";
  try {
    while (!done(text)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      text += value;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
  return text;
}

Deno.test("/api/events tells an open page when points were stored", async () => {
  await using server = await start();
  const response = await fetch(`${server.url}api/events`);
  assertEquals(
    response.headers.get("content-type"),
    "text/event-stream; charset=utf-8",
  );
  const stored = readEvents(
    response.body!,
    (text) => text.includes("event: stored"),
  );
  await put(server, [["a", 1, 1], ["a", 2, 2]]);
  assertStringIncludes(await stored, 'event: stored\ndata: {"puts":2}\n\n');
});

Deno.test("live pages past the limit get a 503, and close frees a place", async () => {
  await using server = await start({ http: { port: 0, maxLivePages: 1 } });
  const first = await fetch(`${server.url}api/events`);
  const [status, body] = await getJson(`${server.url}api/events`);
  assertEquals(status, 503);
  assertMatch((body as { error: string }).error, /too many live pages/);
  await first.body!.cancel();
  // The server sees the cancel when it next writes; within a few ticks.
  let again = 503;
  for (let i = 0; i < 40 && again === 503; i++) {
    await put(server, [["a", i, i]]);
    const response = await fetch(`${server.url}api/events`);
    again = response.status;
    await response.body?.cancel();
    if (again === 503) await new Promise((r) => setTimeout(r, 100));
  }
  assertEquals(again, 200);
});

Deno.test("close ends open event streams and stops the HTTP side", async () => {
  const server = await start();
  const response = await fetch(`${server.url}api/events`);
  const ended = readEvents(response.body!, () => false);
  await server.close();
  assertEquals(await ended, "retry: 1000\n: connected\n\n");
  await fetch(server.url).then(
    () => assert(false, "the HTTP port still answers"),
    (error) => assert(error instanceof TypeError),
  );
});

Deno.test({
  name: "the API reads through VictoriaMetrics like any other backend",
  ignore: VM_SKIP_REASON !== undefined,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    const storage = await VictoriaMetricsStore.open({
      urls: [vm.url],
      log: () => {},
    });
    await using server = await start({ storage });
    const now = Math.floor(Date.now() / 1000);
    await put(server, [["vm.cpu", 1, now - 2], ["vm.cpu", 5, now - 1]]);
    const [, series] = await getJson(`${server.url}api/series?key=vm.cpu`);
    assertEquals((series as { values: number[] }).values, [1, 5]);
    const [, keys] = await getJson(`${server.url}api/keys`);
    assertEquals(
      (keys as { keys: { key: string }[] }).keys.map((entry) => entry.key),
      ["vm.cpu"],
    );
  },
});

/**
 * The VictoriaMetrics backend against a scripted HTTP stub: batching,
 * failures, timeouts and the buffer bound, without a real VictoriaMetrics.
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  type MetricsServer,
  serve,
  type VictoriaMetricsOptions,
  VictoriaMetricsStore,
} from "../../../../src/server/mod.ts";
import { RawSocket } from "../../../helpers/server.ts";
import {
  nativeBody,
  nativeFrame,
  nativeRange,
  nearestDeltaBlock,
} from "../../../helpers/native_export.ts";

const FLAGS =
  'flag{name="dedup.minScrapeInterval", value="1s", is_set="true"} 1\n' +
  'flag{name="retentionPeriod", value="100y", is_set="true"} 1\n';

/** An HTTP server on 127.0.0.1 that answers imports as `importer` says. */
class StubBackend implements AsyncDisposable {
  readonly imports: string[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly url: string;

  constructor(
    importer: (request: Request) => Promise<Response> | Response,
    metrics: string = FLAGS,
    exporter: (request: Request) => Response = () =>
      new Response(nativeBody(0, 0, [])),
    names: readonly string[] = [],
  ) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/metrics") return new Response(metrics);
        if (path === "/api/v1/export/native") return exporter(request);
        if (path === "/api/v1/label/__name__/values") {
          return Response.json({ status: "success", data: names });
        }
        if (path === "/api/v1/import") {
          this.imports.push(await request.text());
          return importer(request);
        }
        return new Response("not found", { status: 404 });
      },
    );
    this.url = `http://127.0.0.1:${this.#server.addr.port}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
  }
}

/**
 * A store on `backend` with `options`, a server on it, and every line
 * either logged.
 */
async function served(
  backend: StubBackend,
  options: Omit<VictoriaMetricsOptions, "urls">,
): Promise<
  { storage: VictoriaMetricsStore; server: MetricsServer; messages: string[] }
> {
  const messages: string[] = [];
  const log = (message: string) => messages.push(message);
  const storage = await VictoriaMetricsStore.open({
    urls: [backend.url],
    log,
    ...options,
  });
  const server = await serve({ port: 0, storage, log });
  return { storage, server, messages };
}

/** Answers after 600 ms, long past the store's timeout in these tests. */
function hang(): Promise<Response> {
  return new Promise((resolve) =>
    setTimeout(() => resolve(new Response("late", { status: 503 })), 600)
  );
}

Deno.test("puts from several connections within flushInterval share one import request", async () => {
  await using backend = new StubBackend(() =>
    new Response(null, { status: 204 })
  );
  const storage = await VictoriaMetricsStore.open({
    log: () => {},
    urls: [backend.url],
    flushInterval: 0.05,
  });
  await using server = await serve({ port: 0, storage, log: () => {} });
  const sockets = await Promise.all(
    [0, 1, 2].map(() => RawSocket.connect(server.port)),
  );
  try {
    await Promise.all(
      sockets.map((socket, i) => socket.send(`put k${i} ${i} 1150864247\n`)),
    );
    for (const socket of sockets) {
      assertEquals(await socket.responses(1), ["ok\n\n"]);
    }
  } finally {
    for (const socket of sockets) socket.close();
  }
  assertEquals(backend.imports.length, 1);
  assertEquals(backend.imports[0].trim().split("\n").length, 3);
  assertEquals(storage.stats().batches, 1);
});

Deno.test("puts that wait for room in the buffer are imported as put, though the server refills its batch", async () => {
  await using backend = new StubBackend(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return new Response(null, { status: 204 });
  });
  const storage = await VictoriaMetricsStore.open({
    log: () => {},
    urls: [backend.url],
    maxBufferedPoints: 300,
    flushInterval: 0.001,
  });
  // The server hands over three quarters of the buffer before answers
  // come back; the rest is room for other connections' batches.
  assertEquals(storage.pendingPoints, 225);
  await using server = await serve({ port: 0, storage, log: () => {} });
  await using socket = await RawSocket.connect(server.port);
  const sent = new Map<string, number>();
  const lines: string[] = [];
  for (let i = 0; i < 5_000; i++) {
    const key = `k${i % 13}`;
    const second = 1150864247 + i;
    lines.push(`put ${key} ${i} ${second}\n`);
    sent.set(`${key} ${second}`, i);
  }
  await socket.send(lines.join(""));
  const answers = await socket.responses(lines.length);
  assertEquals(answers.filter((a) => a !== "ok\n\n"), []);
  const imported = new Map<string, number>();
  for (const body of backend.imports) {
    for (const line of body.trim().split("\n")) {
      const { metric, values, timestamps } = JSON.parse(line);
      timestamps.forEach((ms: number, j: number) => {
        imported.set(`${metric.__name__} ${Math.ceil(ms / 1000)}`, values[j]);
      });
    }
  }
  assertEquals(imported, sent);
  assert(backend.imports.length > 1, `${backend.imports.length} import`);
});

Deno.test("a connection's puts get room beside a peer that filled the front-end while VictoriaMetrics is slow", async () => {
  // Each import takes longer than a put may wait for room in the buffer.
  await using backend = new StubBackend(async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return new Response(null, { status: 204 });
  });
  const { storage, server, messages } = await served(backend, {
    maxBufferedPoints: 40_000,
    maxBatchPoints: 5_000,
    bufferWait: 0.2,
    flushInterval: 0.001,
  });
  await using _server = server;
  await using greedy = await RawSocket.connect(server.port);
  await using other = await RawSocket.connect(server.port);
  const lines = Array.from(
    { length: 60_000 },
    (_, i) => `put g${i % 7} ${i} ${1150864247 + i}\n`,
  );
  const answering = greedy.responses(lines.length);
  const sending = greedy.send(lines.join(""));
  // Awaited at the end; a failure before then is the test's own.
  answering.catch(() => {});
  sending.catch(() => {});
  // The greedy peer holds every point the server hands over unanswered.
  for (
    let i = 0;
    i < 250 && storage.stats().buffered < storage.pendingPoints - 4096;
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert(
    storage.stats().buffered >= storage.pendingPoints - 4096,
    `${storage.stats().buffered} points buffered`,
  );
  // A whole batch of puts, more than a peer that may fill the whole
  // buffer leaves of it.
  const own = Array.from(
    { length: 4096 },
    (_, i) => `put other ${i + 0.5} ${1150864247 + i}\n`,
  );
  await other.send(own.join(""));
  const ownAnswers = await other.responses(own.length);
  assertEquals(ownAnswers.filter((a) => a !== "ok\n\n"), []);
  const [answers] = await Promise.all([answering, sending]);
  assertEquals(answers.filter((a) => a !== "ok\n\n"), []);
  await other.send("get other\n");
  const [got] = await other.responses(1);
  assertEquals(got.split("\n").length, own.length + 3);
  assert(got.endsWith("other 4095.5 1150868342\n\n"), got.slice(-40));
  await greedy.send("get g3\n");
  const [greedyGot] = await greedy.responses(1);
  // g3 holds every seventh put from the fourth: 8,571 of them.
  assertEquals(greedyGot.split("\n").length, 8571 + 3, greedyGot.slice(-80));
  assert(
    greedyGot.endsWith("g3 59993.0 1150924240\n\n"),
    greedyGot.slice(-40),
  );
  assertEquals(storage.stats().bufferTimeouts, 0);
  assertEquals(messages, []);
});

Deno.test("a batch VictoriaMetrics keeps refusing closes its connection unacknowledged", async () => {
  await using backend = new StubBackend(() =>
    new Response("cannot store", { status: 500 })
  );
  const { storage, server, messages } = await served(backend, { retries: 2 });
  await using _server = server;
  await using socket = await RawSocket.connect(server.port);
  await socket.send("put k 1 1150864247\nput k 2 1150864248\n");
  assertEquals(await socket.rest(), "");
  assertEquals(backend.imports.length, 3);
  assertEquals(messages.some((m) => m.includes("HTTP 500")), true);
  assertEquals(storage.stats().failedPoints, 2);
});

Deno.test("a hung VictoriaMetrics: requests time out, the buffer stays bounded, puts fail", async () => {
  await using backend = new StubBackend(hang);
  const storage = await VictoriaMetricsStore.open({
    log: () => {},
    urls: [backend.url],
    timeout: 0.3,
    retries: 0,
    maxBufferedPoints: 2,
    bufferWait: 0.1,
  });
  try {
    const first = storage.put([{ key: "a", timestamp: 1, value: 1 }]);
    const second = storage.put([{ key: "b", timestamp: 1, value: 1 }]);
    // The buffer holds 2 points: a third waits 100 ms for room, then fails.
    await assertRejects(
      () => storage.put([{ key: "c", timestamp: 1, value: 1 }]),
      Error,
      "not keeping up",
    );
    assertEquals(storage.stats().buffered, 2);
    await assertRejects(() => first, Error, "timed out");
    await assertRejects(() => second, Error, "timed out");
    assertEquals(storage.stats().bufferTimeouts, 1);
    assertEquals(storage.stats().buffered, 0);
  } finally {
    await storage.close();
  }
});

/** A native export frame of key `k<k>`: value k + 0.5 at second k + 1. */
function frame(k: number): Uint8Array {
  return nativeFrame(
    `k${k}`,
    nearestDeltaBlock([(k + 1) * 1000], [BigInt(10 * k + 5)], -1),
  );
}

/**
 * A native export body of one frame per key `k0`... (see {@link frame}),
 * its time range first, then a frame every `gapMs`; after `stallAfter`
 * frames it stops sending, without ending the body.
 */
function slowExport(
  lines: number,
  gapMs: number,
  stallAfter = lines,
): Response {
  let sent = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === lines) return controller.close();
        if (sent === stallAfter) return new Promise(() => {});
        return new Promise((resolve) => {
          timer = setTimeout(() => {
            controller.enqueue(
              sent < 0 ? nativeRange(0, 1e12) : frame(sent),
            );
            sent++;
            resolve();
          }, gapMs);
        });
      },
      cancel() {
        clearTimeout(timer);
      },
    }),
  );
}

Deno.test("an export that keeps coming may take longer than the timeout in all", async () => {
  // 8 lines 100 ms apart: 0.8 s in all, never 0.3 s silent.
  await using backend = new StubBackend(
    () => new Response(null, { status: 204 }),
    FLAGS,
    () => slowExport(8, 100),
  );
  const storage = await VictoriaMetricsStore.open({
    log: () => {},
    urls: [backend.url],
    timeout: 0.3,
    retries: 0,
  });
  try {
    const keys: [string, number[], number[]][] = [];
    for (const series of await storage.getAll()) {
      keys.push([
        series.key,
        Array.from(series.timestamps),
        Array.from(series.values),
      ]);
    }
    assertEquals(
      keys,
      Array.from({ length: 8 }, (_, i) => [`k${i}`, [i + 1], [i + 0.5]]),
    );
  } finally {
    await storage.close();
  }
});

Deno.test("an export that stalls mid-body longer than the timeout fails", async () => {
  await using backend = new StubBackend(
    () => new Response(null, { status: 204 }),
    FLAGS,
    () => slowExport(8, 10, 3),
  );
  const storage = await VictoriaMetricsStore.open({
    log: () => {},
    urls: [backend.url],
    timeout: 0.3,
    retries: 0,
  });
  try {
    await assertRejects(() => storage.getAll(), Error, "timed out");
  } finally {
    await storage.close();
  }
});

Deno.test("an export cut in the middle is read again whole: each point once", async () => {
  let exports = 0;
  await using backend = new StubBackend(
    () => new Response(null, { status: 204 }),
    FLAGS,
    () => {
      exports++;
      if (exports > 1) {
        return new Response(nativeBody(0, 1e12, [0, 1, 2, 3].map(frame)));
      }
      // The first answer breaks off after two keys: its connection closes
      // without the chunked body's end.
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(nativeBody(0, 1e12, [frame(2), frame(0)]));
          },
          pull(controller) {
            return new Promise((resolve) =>
              setTimeout(() => {
                controller.error(new Error("cut"));
                resolve();
              }, 20)
            );
          },
        }),
      );
    },
  );
  const storage = await VictoriaMetricsStore.open({
    log: () => {},
    urls: [backend.url],
    retries: 1,
  });
  try {
    const points = [...await storage.getAll()].map((series) => [
      series.key,
      Array.from(series.timestamps),
      Array.from(series.values),
    ]);
    assertEquals(points, [
      ["k0", [1], [0.5]],
      ["k1", [2], [1.5]],
      ["k2", [3], [2.5]],
      ["k3", [4], [3.5]],
    ]);
    assertEquals(exports, 2);
    assertEquals(storage.stats().failedAttempts, 1);
  } finally {
    await storage.close();
  }
});

Deno.test("an export answered 503 fails after its retries, quoting the status and body", async () => {
  let exports = 0;
  await using backend = new StubBackend(
    () => new Response(null, { status: 204 }),
    FLAGS,
    () => {
      exports++;
      return new Response("too busy", { status: 503 });
    },
  );
  const storage = await VictoriaMetricsStore.open({
    log: () => {},
    urls: [backend.url],
    retries: 1,
  });
  try {
    await assertRejects(
      () => storage.get("cpu"),
      Error,
      `HTTP 503 from ${backend.url}/api/v1/export/native: too busy`,
    );
    assertEquals(exports, 2);
  } finally {
    await storage.close();
  }
});

Deno.test("a put waiting for room gets in once VictoriaMetrics catches up", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  await using backend = new StubBackend(async () => {
    await gate;
    return new Response(null, { status: 204 });
  });
  const storage = await VictoriaMetricsStore.open({
    log: () => {},
    urls: [backend.url],
    maxBufferedPoints: 1,
    bufferWait: 5,
  });
  try {
    const first = storage.put([{ key: "a", timestamp: 1, value: 1 }]);
    const second = storage.put([{ key: "b", timestamp: 1, value: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assertEquals(storage.stats().buffered, 1);
    release();
    await first;
    await second;
    assertEquals(backend.imports.length, 2);
  } finally {
    await storage.close();
  }
});

Deno.test("a point VictoriaMetrics would drop silently is refused before sending", async () => {
  await using backend = new StubBackend(() =>
    new Response(null, { status: 204 })
  );
  const storage = await VictoriaMetricsStore.open({ urls: [backend.url] });
  try {
    for (
      const timestamp of [-1, 0, Math.floor(Date.now() / 1000) + 3 * 86_400]
    ) {
      await assertRejects(
        () => storage.put([{ key: "k", timestamp, value: 1 }]),
        Error,
        "refusing put",
      );
    }
    assertEquals(backend.imports.length, 0);
  } finally {
    await storage.close();
  }
});

Deno.test("a second rewritten past its last slot: a new value is answered error, the same value ok", async () => {
  await using backend = new StubBackend(() =>
    new Response(null, { status: 204 })
  );
  const logs: string[] = [];
  const storage = await VictoriaMetricsStore.open({
    urls: [backend.url],
    flushInterval: 0,
    log: (line) => logs.push(line),
  });
  await using server = await serve({
    port: 0,
    storage,
    log: (line) => logs.push(line),
  });
  await using socket = await RawSocket.connect(server.port);
  // Sequential rewrites of a 2006 second, each its own import request: the
  // clock does not move there, so each takes the last slot plus one.
  let value = 0;
  for (; value < 1000; value++) {
    await socket.send(`put old ${value} 1150864247\n`);
    const [answer] = await socket.responses(1);
    if (answer !== "ok\n\n") {
      assertEquals(
        answer,
        `error\nsecond 1150864247 of "old" was rewritten too often through this front-end to order another value after the last\n\n`,
      );
      break;
    }
  }
  const last = value - 1;
  assert(last > 200 && last < 400, `refused after ${value} writes`);
  // The last acknowledged value went out in the last slot, ms 1150864247000.
  assertEquals(
    JSON.parse(backend.imports.at(-1) as string).timestamps,
    [1150864247000],
  );
  await socket.send(`put old ${last} 1150864247\nget old\n`);
  assertEquals(await socket.responses(2), [
    "ok\n\n",
    `ok\nold ${last}.0 1150864247\n\n`,
  ]);
  assertEquals(storage.stats().unordered, 0);
  assert(logs.some((line) => line.includes("rewritten too often")), logs[0]);
});

Deno.test("recent writes forgotten early for maxRecentPoints are logged", async () => {
  await using backend = new StubBackend(() =>
    new Response(null, { status: 204 })
  );
  const logs: string[] = [];
  const storage = await VictoriaMetricsStore.open({
    urls: [backend.url],
    maxRecentPoints: 2,
    log: (line) => logs.push(line),
  });
  try {
    await storage.put(
      [1, 2, 3].map((i) => ({ key: "k", timestamp: 1150864247 + i, value: i })),
    );
    // Past maxRecentPoints, the oldest eighth of it (rounded up) is freed.
    assertEquals(storage.stats().recent, 1);
    assertEquals(logs.length, 1, logs.join("\n"));
    assert(logs[0].includes("2 points forgotten early"), logs[0]);
  } finally {
    await storage.close();
  }
});

Deno.test("a get that would read more than maxExportPoints is answered error at once; the connection goes on", async () => {
  let exports = 0;
  const block = (first: number) =>
    nearestDeltaBlock([first, first + 1000, first + 2000], [1n, 2n, 3n]);
  await using backend = new StubBackend(
    () => new Response(null, { status: 204 }),
    FLAGS,
    (request) => {
      exports++;
      // `get *` exports its range of keys by POST.
      const frames = [nativeFrame("a", block(1_000_000))];
      if (request.method === "POST") {
        frames.push(nativeFrame("b", block(1_000_000)));
      }
      return new Response(nativeBody(0, 10_000_000, frames));
    },
    ["a", "b"],
  );
  const { storage, server, messages } = await served(backend, {
    maxExportPoints: 5,
  });
  await using _server = server;
  await using socket = await RawSocket.connect(server.port);
  await socket.send("get *\nget a\n");
  assertEquals(await socket.responses(2), [
    "error\nmore than 5 points to read (maxExportPoints)\n\n",
    "ok\na 1.0 1000\na 2.0 1001\na 3.0 1002\n\n",
  ]);
  // Refused once, not retried: asking again would not shrink the answer.
  assertEquals(exports, 2);
  assertEquals(storage.stats().failedAttempts, 0);
  assert(messages.some((m) => m.includes("answering error to a get")));
});

Deno.test("open refuses a backend whose flags cannot give last write wins", async (t) => {
  for (
    const [name, metrics, message] of [
      ["no dedup flag", "", "lists no flag"],
      [
        "dedup of a minute",
        'flag{name="dedup.minScrapeInterval", value="1m0s", is_set="true"} 1\n',
        "must be 1s",
      ],
    ]
  ) {
    await t.step(name, async () => {
      await using backend = new StubBackend(
        () => new Response(null, { status: 204 }),
        metrics,
      );
      await assertRejects(
        () => VictoriaMetricsStore.open({ urls: [backend.url] }),
        Error,
        message,
      );
    });
  }
});

Deno.test("open fails clearly when VictoriaMetrics is not reachable", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await assertRejects(
    () => VictoriaMetricsStore.open({ urls: [`http://127.0.0.1:${port}`] }),
    Error,
    "cannot reach VictoriaMetrics",
  );
});

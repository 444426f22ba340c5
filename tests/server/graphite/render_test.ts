/**
 * The Graphite read API on the HTTP port, beyond what graphite-web is
 * compared on (graphite_web_test.ts): Grafana's health check, 400s that
 * say what is wrong, and bounds on expensive targets.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { MemoryStore } from "../../../src/server/storage/memory.ts";
import type { Storage } from "../../../src/server/storage/storage.ts";
import { TargetError } from "../../../src/server/graphite/target.ts";
import { type MetricsServer, serve } from "../../../src/server/mod.ts";
import { parseTime } from "../../../src/server/graphite/time.ts";
import { parseTarget } from "../../../src/server/graphite/target.ts";
import {
  RENDER_LIMITS,
  renderAnswer,
} from "../../../src/server/graphite/render.ts";

async function started(): Promise<MetricsServer> {
  return await serve({
    port: 0,
    graphite: { port: 0 },
    http: { port: 0 },
    log: () => {},
  });
}

async function carbonLines(server: MetricsServer, text: string): Promise<void> {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.graphite!.port,
  });
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at));
  }
  conn.close();
}

async function get(
  server: MetricsServer,
  path: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${server.http!.url}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Renders until the answer holds `count` non-null points (carbon lands in the background). */
async function renderWhen(
  server: MetricsServer,
  query: string,
  count: number,
): Promise<{ target: string; datapoints: [number | null, number][] }[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { status, body } = await get(server, `render?${query}`);
    assertEquals(status, 200, body);
    const answer = JSON.parse(body);
    const present = answer.flatMap((s: { datapoints: [number | null][] }) =>
      s.datapoints
    ).filter(([v]: [number | null]) => v !== null).length;
    if (present >= count || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("Grafana's health check, a render of constantLine(100), succeeds", async () => {
  await using server = await started();
  const { status, body } = await get(
    server,
    "render?target=constantLine(100)&from=-5min&until=now&format=json&maxDataPoints=300",
  );
  assertEquals(status, 200);
  const [line] = JSON.parse(body);
  assertEquals(line.target, "100.0");
  assertEquals(line.datapoints.map(([v]: [number]) => v), [100, 100, 100]);
});

Deno.test("/render answers carbon's points on a grid, with nulls where there are none", async () => {
  await using server = await started();
  await carbonLines(server, "k.a 1 1000\nk.a 2 1010\nk.a 4 1030\n");
  const [series] = await renderWhen(
    server,
    "target=k.a&from=999&until=1040",
    3,
  );
  assertEquals(series.datapoints, [
    [1, 1000],
    [2, 1010],
    [null, 1020],
    [4, 1030],
    [null, 1040],
  ]);
});

Deno.test("a tagged path names its one key, even with glob characters in its tag values", async () => {
  await using server = await started();
  await carbonLines(
    server,
    "disk;host=web[1];dc=a* 5 1000\ndisk;host=web[1];dc=a* 7 1010\n" +
      "disk;host=web1;dc=ab 6 1000\n",
  );
  const answer = await renderWhen(
    server,
    `target=${
      encodeURIComponent("disk;host=web[1];dc=a*")
    }&from=999&until=1010`,
    2,
  );
  assertEquals(answer, [{
    target: "disk;dc=a*;host=web[1]",
    tags: { dc: "a*", host: "web[1]", name: "disk" },
    datapoints: [[5, 1000], [7, 1010]],
  }]);
});

Deno.test("an unsupported function is a 400 that names it", async () => {
  await using server = await started();
  const { status, body } = await get(
    server,
    "render?target=holtWintersForecast(a.b)",
  );
  assertEquals(status, 400);
  assertStringIncludes(JSON.parse(body).error, "holtWintersForecast");
});

Deno.test("bad parameters are 400s that say what is wrong", async () => {
  await using server = await started();
  const cases: [string, string][] = [
    ["render?target=a.b&format=png", "format=png"],
    ["render?target=a.b&maxDataPoints=0", "maxDataPoints"],
    ["render?target=a.b&maxDataPoints=ten", "maxDataPoints"],
    ["render?target=a.b&from=yesterday", "yesterday"],
    ["render?target=a.b&from=-1x", "-1x"],
    ["render?target=a.b&from=100&until=100", "same second"],
    ["render?target=sumSeries(a.b", "parse"],
    ["render?target=scale(a.b,'x')", "factor"],
    ["render?target=summarize(a.b,'1q')", "1q"],
    ["render?target=summarize(a.b,'1h','p99')", "p99"],
    ["render?target=alias(a.b)", "newName"],
    [`render?target=${"f(".repeat(40)}a${")".repeat(40)}`, "deeper"],
    ["metrics/find", "query"],
    ["metrics/find?query=a.*&format=pickle", "treejson"],
  ];
  for (const [path, words] of cases) {
    const { status, body } = await get(server, path);
    assertEquals(status, 400, path);
    assertStringIncludes(JSON.parse(body).error, words, path);
  }
});

Deno.test("a target that names more than 10,000 series is a 400, not a huge answer", async () => {
  await using server = await started();
  let text = "";
  for (let i = 0; i <= RENDER_LIMITS.maxSeries; i++) {
    text += `many.k${i} 1 1000\n`;
  }
  await carbonLines(server, text);
  const deadline = Date.now() + 10_000;
  let answer = await get(server, "render?target=many.*&from=900&until=1100");
  while (answer.status === 200 && Date.now() < deadline) {
    answer = await get(server, "render?target=many.*&from=900&until=1100");
  }
  assertEquals(answer.status, 400);
  assertStringIncludes(JSON.parse(answer.body).error, "more than 10000 series");
  // find lists them all: its answer is one line per node.
  const found = JSON.parse(
    (await get(server, "metrics/find?query=many.*")).body,
  );
  assertEquals(found.length, RENDER_LIMITS.maxSeries + 1);
});

Deno.test("a glob's pass over the keys stops at its deadline with a 400", async () => {
  const store = new MemoryStore({ maxKeys: 100_000, maxPoints: 1_000_000 });
  store.put(
    Array.from({ length: 50_000 }, (_, i) => ({
      key: `big.k${i}`,
      timestamp: 1,
      value: 1,
    })),
  );
  // A deadline already passed: the pass stops at its first pause.
  await assertRejects(
    () =>
      renderAnswer(
        store,
        new URLSearchParams("target=big.*&from=0&until=9"),
        9,
        {
          ...RENDER_LIMITS,
          deadlineMs: -1,
        },
      ),
    TargetError,
    "took too long",
  );
  // With time, the same target is a 400 for naming too many series.
  await assertRejects(
    () =>
      renderAnswer(
        store,
        new URLSearchParams("target=big.*&from=0&until=9"),
        9,
      ),
    TargetError,
    "more than 10000 series",
  );
});

Deno.test("a render gives the event loop a turn between the keys it reads", async () => {
  const store = new MemoryStore({});
  const keys = 200;
  for (let k = 0; k < keys; k++) {
    store.put([
      { key: `many.k${k}`, timestamp: 1000, value: k },
      { key: `many.k${k}`, timestamp: 1010, value: k + 1 },
    ]);
  }
  // Reading a key's history is the costly part of a render (about 1.5 s
  // for 10 M points): other connections must be let in between keys.
  let read = 0;
  const counted: Storage = {
    put: (points) => store.put(points),
    get: (key) => store.get(key),
    getAll: () => store.getAll(),
    close: () => store.close(),
    getRange: (key, from, to) => {
      read++;
      return store.getRange(key, from, to);
    },
  };
  let readWhenTimerRan: number | undefined;
  const timer = setTimeout(() => readWhenTimerRan = read, 0);
  const answer = await renderAnswer(
    counted,
    new URLSearchParams("target=many.*&from=999&until=1010"),
    1010,
  );
  clearTimeout(timer);
  assertEquals(JSON.parse(answer).length, keys);
  assert(
    readWhenTimerRan !== undefined && readWhenTimerRan < read,
    `a timer ran only after all ${read} reads`,
  );
});

Deno.test("a long range reads a bounded number of slots: the step widens", async () => {
  await using server = await started();
  await carbonLines(server, "dense.k 1 0\ndense.k 2 1\ndense.k 3 500000000\n");
  const [series] = await renderWhen(
    server,
    "target=dense.k&from=0&until=1000000000&maxDataPoints=100",
    1,
  );
  // 10^9 s in at most maxSlots slots, consolidated to 100 points.
  const step = Math.ceil(1e9 / RENDER_LIMITS.maxSlots);
  const perPoint = Math.ceil(1e9 / step / 100);
  assert(series.datapoints.length <= 101, `${series.datapoints.length}`);
  assertEquals(series.datapoints.filter(([v]) => v === 3).length, 1);
  assertEquals(
    series.datapoints[1][1] - series.datapoints[0][1],
    step * perPoint,
  );
});

Deno.test("POST takes a form with repeated targets, and /version names graphite-web's", async () => {
  await using server = await started();
  await carbonLines(server, "p.a 1 1000\np.b 2 1000\n");
  await renderWhen(server, "target=p.*&from=900&until=1000", 2);
  const response = await fetch(`${server.http!.url}render`, {
    method: "POST",
    body: new URLSearchParams([
      ["target", "p.a"],
      ["target", "p.b"],
      ["from", "900"],
      ["until", "1000"],
    ]),
  });
  const answer = await response.json();
  assertEquals(answer.map((s: { target: string }) => s.target), ["p.a", "p.b"]);
  assertEquals(await get(server, "version"), { status: 200, body: "1.1.8\n" });
});

Deno.test("times: Unix seconds, now, and offsets as graphite-web reads them", () => {
  const now = 1_700_000_000;
  assertEquals(parseTime("1600000000", now), 1_600_000_000);
  assertEquals(parseTime("now", now), now);
  assertEquals(parseTime("-1h", now), now - 3600);
  assertEquals(parseTime("now-7d", now), now - 7 * 86400);
  assertEquals(parseTime("-1h30min", now), now - 5400);
  assertEquals(parseTime("-2mon", now), now - 60 * 86400);
  assertEquals(parseTime("+1w", now), now + 7 * 86400);
  assertEquals(parseTime(" -10_s ", now), now - 10);
});

Deno.test("targets: pipes, keyword arguments and quoted strings", () => {
  assertEquals(
    parseTarget("a.b|scale(2)"),
    parseTarget("scale(a.b,2)"),
  );
  assertEquals(parseTarget('summarize(web*.{a,b}, "1h", func="max")'), {
    type: "call",
    name: "summarize",
    args: [
      { type: "path", path: "web*.{a,b}" },
      { type: "string", value: "1h" },
    ],
    kwargs: new Map([["func", { type: "string", value: "max" }]]),
  });
});

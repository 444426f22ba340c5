import { assert, assertEquals, assertMatch } from "@std/assert";
import stringWidth from "string-width";
import { chartMetrics } from "../../src/cli/chart.ts";
import { formatMetrics } from "../../src/cli/format.ts";
import type { Metrics, Point } from "../../mod.ts";
import { StubServer } from "../helpers/stub_server.ts";
import { assertSameLines } from "../helpers/same_lines.ts";
import { CLI, DENO_RUN, ROOT, runCli } from "../helpers/server.ts";

const MILLION = 1_000_000;
/** Past the ~130,000 arguments at which `Math.max(...points)` overflowed. */
const MANY = 250_000;

function series(count: number): Point[] {
  return Array.from({ length: count }, (_, i): Point => [1_000 + i, i % 97]);
}

/** A timestamp as the time column shows it: ISO 8601 UTC, whole seconds. */
const iso = (timestamp: number): string =>
  new Date(timestamp * 1000).toISOString().replace(".000Z", "Z");

/** The fields of each row of `table` (header and final newline dropped). */
const rows = (table: string): string[] =>
  table.split("\n").slice(1, -1).map((row) => row.split(/ +/).join(" "));

/** The expected `key time timestamp value` of each point of `key`. */
const fields = (key: string, points: Point[]): string[] =>
  points.map(([t, v]) => `${key} ${iso(t)} ${t} ${v}`);

Deno.test("every format renders series far past the call-stack limit", () => {
  // Each format's cost is linear; table and csv take about 3 µs a point
  // here, so they are checked at a quarter of a million.
  const many: Metrics = { big: series(MANY) };
  const expected = fields("big", many.big);
  assertSameLines(rows(formatMetrics(many, "table")), expected, "table");
  const csv = formatMetrics(many, "csv").split("\n");
  assertEquals(csv.slice(0, 1), ["key,time,timestamp,value"]);
  assertSameLines(
    csv.slice(1, -1).map((row) => row.replaceAll(",", " ")),
    expected,
    "csv",
  );
  const metrics: Metrics = { big: series(MILLION) };
  const json: Metrics = JSON.parse(formatMetrics(metrics, "json"));
  assertEquals(Object.keys(json), ["big"]);
  assertEquals(json.big.length, MILLION);
  const wrong = json.big.findIndex(([t, v], i) =>
    t !== metrics.big[i][0] || v !== metrics.big[i][1]
  );
  assertEquals(wrong, -1, `json point ${wrong}`);
  assertMatch(
    chartMetrics(metrics),
    /^big {2}[▁▂▃▄▅▆▇█]{60} {2}min 0 {2}max 96 {2}last \d+ {2}\(1000000 points\)\n$/,
  );
});

/** A server answering `get` with `count` points of key `k`. */
function bigServer(count: number): StubServer {
  const answer = "ok\n" +
    series(count).map(([ts, v]) => `k ${v} ${ts}\n`).join("") + "\n";
  return new StubServer((conn) => conn.respond(() => answer));
}

Deno.test("get prints a table of a quarter of a million points from a server", async () => {
  await using server = bigServer(MANY);
  const { code, stdout, stderr } = await runCli([
    "get",
    "k",
    "--server",
    `127.0.0.1:${server.port}`,
  ]);
  assertEquals([code, stderr], [0, ""]);
  assertSameLines(rows(stdout), fields("k", series(MANY)));
});

Deno.test("get into a pipe closed early (| head) exits 0 quietly", async () => {
  await using server = bigServer(100_000);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...DENO_RUN, CLI, "get", "*", "--format", "csv"]
      .concat(["--server", `127.0.0.1:${server.port}`]),
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read(); // like `head -2`: a little, then go
  assert(
    new TextDecoder().decode(value).startsWith("key,time,timestamp,value\n"),
  );
  await reader.cancel();
  const stderr = await new Response(child.stderr).text();
  const { code } = await child.status;
  assertEquals([code, stderr], [0, ""]);
});

Deno.test("table and chart columns align for wide (CJK, emoji) keys", () => {
  const metrics: Metrics = {
    "温度": [[1, 1]],
    "🚀.speed": [[1, 22]],
    "cpu": [[1, 333]],
  };
  const table = formatMetrics(metrics, "table").trimEnd().split("\n");
  // Every row ends in the same terminal column.
  assertEquals(
    new Set(table.map((row) => stringWidth(row))).size,
    1,
    table.join("\n"),
  );
  const chart = chartMetrics(metrics).trimEnd().split("\n");
  const barColumn = chart.map((line) =>
    stringWidth(line.slice(0, line.search(/[▁▂▃▄▅▆▇█]/)))
  );
  assertEquals(new Set(barColumn).size, 1, chart.join("\n"));
});

/**
 * `metrics serve --data DIR --max-disk SIZE`: a real server process holds
 * its data directory to the budget, deleting the oldest days, says so on
 * stderr and counts it on `/metrics`; and the flag's usage errors.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { DiskUsageReader } from "../../src/server/storage/engine/disk_budget.ts";
import { exchange, runCli, ServerProcess, tempDir } from "../helpers/server.ts";
import { openEngine } from "../server/storage/engine/open_engine.ts";

const DAY = 86_400;
/** 2025-01-01T00:00:00Z. */
const START = Date.UTC(2025, 0, 1) / 1000;
const KEYS = 20;
const DAYS = 10;
/** A point per key every half hour. */
const PER_DAY = KEYS * 48;

/** Ten days of points in `dir`, a segment or two a day. */
async function tenDays(dir: string): Promise<void> {
  for (let day = 0; day < DAYS; day++) {
    const store = await openEngine(dir, { headPoints: 8 });
    await store.put(Array.from({ length: PER_DAY }, (_, i) => ({
      key: `k${i % KEYS}`,
      timestamp: START + day * DAY + Math.floor(i / KEYS) * 1800,
      value: day + (i % KEYS) / 4,
    })));
    await store.close();
  }
}

/** Waits until `server` wrote a line matching `pattern` on stderr. */
async function stderrLines(
  server: ServerProcess,
  pattern: RegExp,
): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const lines = server.stderr.split("\n").filter((line) =>
      pattern.test(line)
    );
    if (lines.length > 0) return lines;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no line matching ${pattern} in: ${server.stderr}`);
}

Deno.test("serve --max-disk past the budget deletes the oldest days at start, says which, counts them on /metrics, and answers only the days kept", async () => {
  await using tmp = await tempDir();
  await tenDays(tmp.path);
  const { total } = await new DiskUsageReader(tmp.path).read();
  const budget = Math.floor(total / 2);
  await using server = await ServerProcess.start([
    "--data",
    tmp.path,
    "--max-disk",
    String(budget),
    "--http",
    "0",
  ]);
  assertMatch(
    (await stderrLines(server, /^disk budget: \d/))[0],
    /^disk budget: [\d.]+ KB for the segments and checkpoint in .*; past it the oldest days are deleted$/,
  );
  const steps = await stderrLines(server, /^disk budget: \//);
  const deleted = steps.length;
  assert(deleted >= 2 && deleted < DAYS, steps.join("\n"));
  steps.forEach((line, day) =>
    assertMatch(
      line,
      new RegExp(
        `deleted the( \\d+)? segments? of 2025-01-${
          String(day + 1).padStart(2, "0")
        } \\(.*, ${PER_DAY} points\\): points before 2025-01-${
          String(day + 2).padStart(2, "0")
        } are no longer kept$`,
      ),
    )
  );
  const kept = START + deleted * DAY;
  const answer = await exchange(server.port, "get k3\n", 1);
  const lines = answer.split("\n").filter((line) => line.startsWith("k3 "));
  assertEquals(lines.length, (DAYS - deleted) * 48);
  assertEquals(lines[0], `k3 ${deleted + 0.75} ${kept}`);
  const metrics = await (await fetch(
    `http://127.0.0.1:${server.httpPort}/metrics`,
  )).text();
  assertMatch(
    metrics,
    new RegExp(
      `\\nmetrics_retention_deleted_points_total\\{reason="size"\\} ${
        deleted * PER_DAY
      }\\n`,
    ),
  );
  assertMatch(
    metrics,
    new RegExp(`\\nmetrics_retention_cutoff_seconds ${kept}\\n`),
  );
  // The newest day takes puts.
  const newest = START + DAYS * DAY - 60;
  assertEquals(
    await exchange(server.port, `put k3 7 ${newest}\n`, 1),
    "ok\n\n",
  );
  const after = await exchange(server.port, "get k3\n", 1);
  assert(after.endsWith(`\nk3 7.0 ${newest}\n\n`), after.slice(-80));
});

Deno.test("serve says which disk budget is in force with --data", async () => {
  await using tmp = await tempDir();
  await using server = await ServerProcess.start(["--data", tmp.path]);
  assertEquals(
    (await stderrLines(server, /^disk budget:/))[0],
    "disk budget: none (set --max-disk 10GB to delete the oldest days past a size)",
  );
});

Deno.test("--max-disk that is no size, without --data, or with VictoriaMetrics, is a usage error", async () => {
  for (
    const [args, message] of [
      [
        ["--max-disk", "lots", "--data", "x"],
        /--max-disk expects a size above 0 like 500MB/,
      ],
      [["--max-disk", "0", "--data", "x"], /--max-disk expects a size above 0/],
      [
        ["--max-disk", "10GB"],
        /--max-disk limits the disk space of --data DIR: give --data too/,
      ],
      [
        [
          "--max-disk",
          "10GB",
          "--storage",
          "victoriametrics=http://127.0.0.1:9",
        ],
        /--max-disk does not apply to --storage victoriametrics: VictoriaMetrics manages its own disk/,
      ],
    ] as const
  ) {
    const { code, stderr } = await runCli(["serve", "--port", "0", ...args]);
    assertEquals(code, 2, stderr);
    assertMatch(stderr, message);
  }
});

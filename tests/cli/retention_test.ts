/**
 * `metrics serve --retention`: a real server process refuses puts older
 * than the retention, answers only newer points, says which retention is
 * in force, and counts deletions on `/metrics`.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { exchange, runCli, ServerProcess } from "../helpers/server.ts";

/** Waits until `server` wrote a line matching `pattern` on stderr. */
async function stderrLine(
  server: ServerProcess,
  pattern: RegExp,
): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = server.stderr.split("\n").find((text) => pattern.test(text));
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no line matching ${pattern} in: ${server.stderr}`);
}

Deno.test("serve --retention 1h refuses a put from 2 h ago and answers only newer points", async () => {
  await using server = await ServerProcess.start(["--retention", "1h"]);
  const now = Math.floor(Date.now() / 1000);
  const answers = await exchange(
    server.port,
    `put old.cpu 1.5 ${now - 7200}\nput old.cpu 2.5 ${now - 60}\n` +
      `get old.cpu\n`,
    3,
  );
  assertEquals(
    answers,
    `error\nolder than retention\n\nok\n\nok\nold.cpu 2.5 ${now - 60}\n\n`,
  );
});

Deno.test("serve says which retention is in force at start", async (t) => {
  await t.step("none: every point is kept", async () => {
    await using server = await ServerProcess.start();
    assertMatch(
      await stderrLine(server, /^retention:/),
      /^retention: every point is kept \(set --retention 30d/,
    );
  });
  await t.step("30d", async () => {
    await using server = await ServerProcess.start(["--retention", "30d"]);
    assertEquals(
      await stderrLine(server, /^retention:/),
      "retention: 30d; older puts are refused and older points deleted",
    );
  });
});

Deno.test("/metrics shows the retention's cut-off and the points it deleted", async () => {
  await using server = await ServerProcess.start([
    "--retention",
    "1h",
    "--http",
    "0",
  ]);
  const response = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
  const text = await response.text();
  assertMatch(
    text,
    /\nmetrics_retention_deleted_points_total\{reason="age"\} 0\n/,
  );
  const cutoff = Number(
    text.match(/\nmetrics_retention_cutoff_seconds (\d+)\n/)?.[1],
  );
  const expected = Math.floor(Date.now() / 1000) - 3600;
  assert(
    Math.abs(cutoff - expected) <= 5,
    `cut-off ${cutoff}, not ${expected}`,
  );
});

Deno.test("--retention that is no duration, or with VictoriaMetrics, is a usage error", async () => {
  for (
    const [args, message] of [
      [["--retention", "soon"], /--retention expects a duration/],
      [["--retention", "0"], /--retention expects a duration above 0/],
      [
        [
          "--retention",
          "30d",
          "--storage",
          "victoriametrics=http://127.0.0.1:9",
        ],
        /--retention does not apply to --storage victoriametrics: VictoriaMetrics keeps its own/,
      ],
    ] as const
  ) {
    const { code, stderr } = await runCli(["serve", "--port", "0", ...args]);
    assertEquals(code, 2, stderr);
    assertMatch(stderr, message);
  }
});

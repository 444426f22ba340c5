/**
 * `metrics import` of inputs larger than one batch: every point lands and
 * reads back, bad lines are named by their own number, and `\r\n` line
 * ends, comments and a last line without `\n` are read as a user wrote them.
 */

import { assertEquals, assertMatch } from "@std/assert";
import { serve } from "../../src/server/mod.ts";
import { MemoryStore } from "../../src/server/storage/memory.ts";
import { runCli } from "../helpers/server.ts";

Deno.test("import of 10,001 lines over several batches stores every point and names each bad line", async () => {
  const store = new MemoryStore();
  await using server = await serve({ port: 0, storage: store, log: () => {} });
  const lines: string[] = [];
  const expected = new Map<string, [number, number][]>();
  for (let n = 1; n <= 10_001; n++) {
    if (n === 5000 || n === 9999) {
      lines.push(`bad line ${n} x`); // four fields
    } else if (n % 1000 === 0) {
      lines.push(`# comment on line ${n}`);
    } else {
      const key = `imp.k${n % 7}`;
      lines.push(`${key} ${n / 4} ${1_700_000_000 + n}`);
      if (!expected.has(key)) expected.set(key, []);
      expected.get(key)!.push([1_700_000_000 + n, n / 4]);
    }
  }
  const { code, stdout, stderr } = await runCli(
    ["import", "-", "--server", `127.0.0.1:${server.port}`, "--timeout", "30s"],
    { stdin: lines.join("\r\n") }, // CRLF, and no newline after the last line
  );
  assertEquals(code, 2, stderr);
  assertMatch(stderr, /^line 5000: expected/m);
  assertMatch(stderr, /^line 9999: expected/m);
  const stored = [...expected.values()].reduce((n, p) => n + p.length, 0);
  assertMatch(
    stdout,
    new RegExp(
      `^acknowledged ${stored}, rejected 0, not acknowledged 0, bad lines 2 \\(lines 5000, 9999\\)`,
    ),
  );
  for (const [key, points] of expected) {
    const series = store.get(key)!;
    const got = Array.from(series.timestamps, (t, i) => [t, series.values[i]]);
    assertEquals(got, points, key);
  }
  assertEquals(store.size().keys, 7);
});

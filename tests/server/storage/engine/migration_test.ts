/**
 * Conversion of a 0.2 data directory (`metrics.log`) on the storage
 * engine's first start. Interrupted conversions are in kill_test.ts.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { segmentsDir } from "../../../../src/server/storage/engine/files.ts";
import { decodeSegment } from "../../../../src/server/storage/engine/segment_format.ts";
import { writeLegacyLog } from "./legacy_log.ts";
import { tempDir } from "../../../helpers/server.ts";
import { Rng } from "../../../reliability/rng.ts";
import { FakeMemory } from "./fake_memory.ts";
import { namesIn } from "./dir_files.ts";

Deno.test("a 0.2 log is converted on the first start: every point reads back, the log is kept aside, later starts read segments", async () => {
  await using tmp = await tempDir();
  const rng = new Rng(5);
  const oracle = new Map<string, number>();
  const batches = Array.from(
    { length: 100 },
    () =>
      Array.from({ length: 50 }, () => ({
        key: `k${rng.int(0, 19)}`,
        timestamp: 1_700_000_000 + rng.int(0, 200_000),
        value: rng.int(-1000, 1000) / 8,
      })),
  );
  for (const p of batches.flat()) {
    oracle.set(`${p.key} ${p.timestamp}`, p.value);
  }
  await writeLegacyLog(tmp.path, batches);
  const messages: string[] = [];
  const store = await EngineStore.open(tmp.path, new FakeMemory(8), {
    log: (m) => messages.push(m),
  });
  assertMatch(
    messages.join("\n"),
    /converted .*metrics\.log to segments; the 0\.2 log is kept as .*metrics\.log\.v0\.2-/,
  );
  const lines = (s: EngineStore) =>
    [...s.getAll()].flatMap(({ key, timestamps, values }) =>
      Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
    ).sort();
  const expected = [...oracle].map(([point, value]) => `${point} ${value}`)
    .sort();
  assertEquals(lines(store), expected);
  await store.close();
  const files = await namesIn(tmp.path);
  assert(!files.includes("metrics.log"));
  assertEquals(
    files.filter((n) => n.startsWith("metrics.log.v0.2-")).length,
    1,
  );
  const segments = await namesIn(segmentsDir(tmp.path));
  assert(segments.length > 0);
  const first = decodeSegment(
    await Deno.readFile(`${segmentsDir(tmp.path)}/${segments[0]}`),
  );
  assertEquals(first.footer?.kind, "converted");
  const again: string[] = [];
  const reopened = await EngineStore.open(tmp.path, new FakeMemory(8), {
    log: (m) => again.push(m),
  });
  assert(!again.some((m) => m.includes("convert")), `${again}`);
  assertEquals(lines(reopened), expected);
  await reopened.close();
});

Deno.test("a metrics.log that is not a metrics log stops the start, untouched", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/metrics.log`, "not a log\n");
  await assertRejects(
    () => EngineStore.open(tmp.path, new FakeMemory(8), { log: () => {} }),
    Error,
    "is not a metrics log",
  );
  assertEquals(
    await Deno.readTextFile(`${tmp.path}/metrics.log`),
    "not a log\n",
  );
  // The directory is not left locked: once the file is moved away, it opens.
  await Deno.rename(`${tmp.path}/metrics.log`, `${tmp.path}/elsewhere`);
  const store = await EngineStore.open(tmp.path, new FakeMemory(8), {
    log: () => {},
  });
  await store.close();
});

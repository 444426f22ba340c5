/**
 * A conversion found unfinished without a kill -9 (kill_test.ts does it
 * with one): the 0.2 log still in place beside the converted segments, a
 * checkpoint and WAL files. Start-up undoes the conversion and converts
 * again; every point written to the log reads back.
 */

import { assertEquals, assertMatch } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { tempDir } from "../../../helpers/server.ts";
import { FakeMemory } from "./fake_memory.ts";
import { namesIn } from "./dir_files.ts";
import { writeLegacyLog } from "./legacy_log.ts";

Deno.test("a 0.2 log found again beside its converted files is converted again, every point read back", async () => {
  await using tmp = await tempDir();
  const batches = Array.from(
    { length: 20 },
    (_, b) =>
      Array.from({ length: 10 }, (_, i) => ({
        key: `k${i % 3}`,
        timestamp: 1_700_000_000 + 10 * b + i,
        value: b - i / 4,
      })),
  );
  const expected = batches.flat().map((p) =>
    `${p.key} ${p.timestamp} ${p.value}`
  ).sort();
  const lines = (s: EngineStore) =>
    [...s.getAll()].flatMap(({ key, timestamps, values }) =>
      Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
    ).sort();
  await writeLegacyLog(tmp.path, batches);
  const open = (messages: string[]) =>
    EngineStore.open(tmp.path, new FakeMemory(8), {
      log: (m) => messages.push(m),
    });
  const first = await open([]);
  assertEquals(lines(first), expected);
  await first.close();
  // The log put back where it was: as if the rename had not happened.
  const [kept] = (await namesIn(tmp.path)).filter((n) =>
    n.startsWith("metrics.log.v0.2-")
  );
  await Deno.rename(`${tmp.path}/${kept}`, `${tmp.path}/metrics.log`);
  const messages: string[] = [];
  const again = await open(messages);
  // The start-up report counts the puts read from the log, once each.
  assertMatch(
    messages.join("\n"),
    /replayed 0 puts from 0 WAL files and 200 from \S+metrics\.log to convert \(200 points of 3 keys\)/,
  );
  assertMatch(messages.join("\n"), /converted .*metrics\.log to segments/);
  assertEquals(lines(again), expected);
  await again.close();
  const third = await open([]);
  assertEquals(lines(third), expected);
  await third.close();
});

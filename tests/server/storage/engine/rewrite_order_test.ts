/**
 * A rewrite from memory over several UTC days names the segments it
 * replaces in the last segment it writes only: a crash before that one
 * leaves the old segments in force. Every point reads back after it.
 */

import { assert, assertEquals } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { segmentsDir } from "../../../../src/server/storage/engine/files.ts";
import { decodeSegment } from "../../../../src/server/storage/engine/segment_format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { namesIn } from "./dir_files.ts";
import { FakeMemory } from "./fake_memory.ts";

const DAY = 86_400;

function lines(store: EngineStore): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
  ).sort();
}

/** Each segment's sequence and the sequences it replaces. */
async function footers(dir: string): Promise<[number, number[]][]> {
  const out: [number, number[]][] = [];
  for (const name of await namesIn(segmentsDir(dir))) {
    const { footer } = decodeSegment(
      await Deno.readFile(`${segmentsDir(dir)}/${name}`),
    );
    out.push([footer!.sequence, [...footer!.replaces]]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

Deno.test("a rewrite over three days names the replaced segments in its last segment only", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const open = () =>
    EngineStore.open(tmp.path, new FakeMemory(8), {
      watchInterval: 0.05,
      log: (m) => messages.push(m),
    });
  const points: StoredPoint[] = [];
  for (let day = 0; day < 3; day++) {
    for (let i = 0; i < 8; i++) {
      points.push({ key: "k", timestamp: day * DAY + i, value: day + i / 8 });
    }
  }
  const first = await open();
  await first.put(points);
  await first.close();
  const old = await footers(tmp.path);
  assertEquals(old.length, 3);
  const store = await open();
  const [gone] = await namesIn(segmentsDir(tmp.path));
  await Deno.remove(`${segmentsDir(tmp.path)}/${gone}`);
  for (
    let i = 0;
    i < 300 && !messages.some((m) => m.startsWith("rewrote"));
    i++
  ) await new Promise((resolve) => setTimeout(resolve, 20));
  assert(messages.some((m) => m.startsWith("rewrote")), messages.join("\n"));
  const written = await footers(tmp.path);
  assertEquals(written.length, 3);
  assertEquals(
    written.map(([, replaces]) => replaces),
    [[], [], old.map(([sequence]) => sequence)],
  );
  assert(written[0][0] > old[2][0]);
  await store.close();
  const reopened = await open();
  assertEquals(
    lines(reopened),
    points.map((p) => `${p.key} ${p.timestamp} ${p.value}`).sort(),
  );
  await reopened.close();
});

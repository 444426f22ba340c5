/** A log frame's points grouped into one record per key (`key_groups.ts`). */

import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import { assertEquals } from "@std/assert";
import {
  GROUP_POINTS,
  KeyGroups,
} from "../../../../src/server/storage/log/key_groups.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";

type Record = [key: string, points: [number, number][]];

/** The records of `bytes` (key length, key, count, points), as written. */
function records(bytes: Uint8Array): Record[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const decoder = new TextDecoder();
  const out: Record[] = [];
  for (let at = 0; at < bytes.length;) {
    const keyLength = view.getUint32(at, true);
    const key = decoder.decode(bytes.subarray(at + 4, at + 4 + keyLength));
    const count = view.getUint32(at + 4 + keyLength, true);
    at += 8 + keyLength;
    const points: [number, number][] = [];
    for (let i = 0; i < count; i++, at += 16) {
      points.push([view.getFloat64(at, true), view.getFloat64(at + 8, true)]);
    }
    out.push([key, points]);
  }
  return out;
}

/** Writes `groups` at offset 3 of a fresh buffer; returns the records' bytes. */
function written(groups: KeyGroups): Uint8Array {
  const buf = new Uint8Array(3 + groups.byteBound);
  const end = groups.write(buf, new DataView(buf.buffer), 3);
  return buf.subarray(3, end);
}

Deno.test("KeyGroups writes one record per key, keys in first-added order, each key's points in the order added", () => {
  const points: StoredPoint[] = [
    { key: "b", timestamp: 5, value: 1 },
    { key: "é", timestamp: 9, value: 2 },
    { key: "b", timestamp: 3, value: 3 },
    { key: "b", timestamp: 5, value: 4 },
    { key: "a", timestamp: -1, value: -0 },
    { key: "é", timestamp: 9, value: 5 },
  ];
  const groups = new KeyGroups();
  groups.add(PointColumns.of(points), 0, 2);
  groups.add(PointColumns.of(points), 2, points.length);
  assertEquals(records(written(groups)), [
    ["b", [[5, 1], [3, 3], [5, 4]]],
    ["é", [[9, 2], [9, 5]]],
    ["a", [[-1, -0]]],
  ]);
});

Deno.test("KeyGroups' byte bound covers its records, non-ASCII keys at 3 bytes a unit, and write empties it", () => {
  const keys = ["ключ", "emoji.🚀", "中文", "plain"];
  const points: StoredPoint[] = Array.from({ length: 40 }, (_, i) => ({
    key: keys[i % keys.length],
    timestamp: i,
    value: i / 3,
  }));
  const groups = new KeyGroups();
  groups.add(PointColumns.of(points), 0, points.length);
  assertEquals(groups.room, GROUP_POINTS - 40);
  const bound = groups.byteBound;
  const bytes = written(groups);
  const utf8 = keys.reduce((n, k) => n + new TextEncoder().encode(k).length, 0);
  assertEquals(bytes.length, 4 * 8 + utf8 + 40 * 16);
  assertEquals(bound >= bytes.length, true);
  assertEquals([groups.room, groups.byteBound], [GROUP_POINTS, 0]);
  assertEquals(
    records(bytes).map(([key, p]) => [key, p.length]),
    keys.map((key) => [key, 10]),
  );
  // Emptied: the next group starts its own records.
  groups.add(PointColumns.of(points), 0, 1);
  assertEquals(records(written(groups)), [["ключ", [[0, 0]]]]);
});

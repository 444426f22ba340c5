import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import { assert, assertEquals } from "@std/assert";
import {
  clockSlot,
  SLOTS,
} from "../../../../src/server/storage/victoriametrics/order.ts";
import { RecentWrites } from "../../../../src/server/storage/victoriametrics/recent.ts";
import type { KeyWrites } from "../../../../src/server/storage/victoriametrics/key_writes.ts";
import {
  BatchBuilder,
  type RequestWrites,
} from "../../../../src/server/storage/victoriametrics/batch.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";

const NOW = Date.UTC(2026, 10, 26);
const NOW_S = NOW / 1000;
const DAY = 86_400_000;
const OLD = 1150864247;

/** The writes of one request made of `points`. */
function request(points: StoredPoint[]): RequestWrites {
  const builder = new BatchBuilder();
  builder.add(PointColumns.of(points));
  return builder.finish();
}

/** Plans and acknowledges `points` at `now`; returns their batches. */
function write(
  recent: RecentWrites,
  points: StoredPoint[],
  now: number,
): RequestWrites {
  const writes = request(points);
  recent.plan(writes, now);
  recent.ack(writes, now);
  return writes;
}

/** The slot `writes` planned for `key` at `second`. */
function slotOf(writes: RequestWrites, key: string, second: number): number {
  const k = writes.keys.indexOf(key);
  for (let i = writes.starts[k]; i < writes.ends[k]; i++) {
    if (writes.seconds[i] === second) return writes.slots[i];
  }
  throw new Error(`no write of ${key} at ${second}`);
}

/** `[second, value, slot]` of each remembered write of `writes`. */
function triples(writes: KeyWrites | undefined): number[][] {
  if (writes === undefined) return [];
  return Array.from(
    { length: writes.length },
    (_, i) => [writes.second(i), writes.value(i), writes.slot(i)],
  );
}

Deno.test("recent writes: a rewrite takes the clock's slot or the last one plus one", () => {
  const recent = new RecentWrites(30_000, 100);
  const clock = clockSlot(OLD, NOW);
  const first = write(recent, [{ key: "k", timestamp: OLD, value: 1 }], NOW);
  assertEquals(slotOf(first, "k", OLD), clock);
  const second = write(recent, [
    { key: "k", timestamp: OLD, value: 2 },
    { key: "k", timestamp: OLD, value: 3 },
    { key: "other", timestamp: OLD, value: 1 },
  ], NOW + 5);
  // One write per second in a request, the last; only "k" was written before.
  assertEquals([...second.values.subarray(0, second.ends[0])], [3]);
  assertEquals(slotOf(second, "k", OLD), clock + 1);
  assertEquals(slotOf(second, "other", OLD), clock);
  assertEquals(triples(recent.get("k", NOW + 5)), [[OLD, 3, clock + 1]]);
  // A recent second: the clock moves fast enough that no bump is needed.
  const fresh = write(recent, [{ key: "f", timestamp: NOW_S, value: 1 }], NOW);
  const again = write(
    recent,
    [{ key: "f", timestamp: NOW_S, value: 2 }],
    NOW + 900,
  );
  assertEquals(slotOf(again, "f", NOW_S), clockSlot(NOW_S, NOW + 900));
  assert(slotOf(again, "f", NOW_S) > slotOf(fresh, "f", NOW_S));
});

Deno.test("recent writes: a request planned while another is in flight takes larger slots", () => {
  const recent = new RecentWrites(30_000, 100);
  const first = request([{ key: "k", timestamp: OLD, value: 1 }]);
  const second = request([{ key: "k", timestamp: OLD, value: 2 }]);
  recent.plan(first, NOW);
  recent.plan(second, NOW);
  assertEquals(slotOf(second, "k", OLD), slotOf(first, "k", OLD) + 1);
  // Acknowledged in order, the later write's value shows.
  recent.ack(first, NOW + 1);
  recent.ack(second, NOW + 2);
  assertEquals(triples(recent.get("k", NOW + 2)), [
    [OLD, 2, slotOf(second, "k", OLD)],
  ]);
});

Deno.test("recent writes: a value shows once acknowledged; a failed request keeps its slot taken", () => {
  const recent = new RecentWrites(30_000, 100);
  write(recent, [{ key: "k", timestamp: OLD, value: 1 }], NOW);
  const failed = request([
    { key: "k", timestamp: OLD, value: 2 },
    { key: "k", timestamp: OLD + 1, value: 5 },
  ]);
  recent.plan(failed, NOW);
  // Never acknowledged: the acknowledged value stays, a new second shows none.
  const shown = triples(recent.get("k", NOW));
  assertEquals(shown[0].slice(0, 2), [OLD, 1]);
  assertEquals(shown[1].slice(0, 2), [OLD + 1, NaN]);
  // VictoriaMetrics may have stored it: the next write orders after it.
  const next = write(recent, [{ key: "k", timestamp: OLD, value: 3 }], NOW);
  assertEquals(slotOf(next, "k", OLD), slotOf(failed, "k", OLD) + 1);
});

Deno.test("recent writes: with every slot used, a new value is flagged and counted", () => {
  const recent = new RecentWrites(30_000, 100);
  let writes = 0;
  for (let value = 0;; value++) {
    assertEquals(recent.exhausted("k", OLD, value), false);
    const batches = write(recent, [{ key: "k", timestamp: OLD, value }], NOW);
    writes++;
    if (slotOf(batches, "k", OLD) === SLOTS - 1) break;
  }
  assertEquals(writes, SLOTS - clockSlot(OLD, NOW));
  assertEquals(recent.unordered, 0);
  const last = writes - 1;
  assertEquals(
    recent.exhausted("k", OLD, last),
    false,
    "same value: a harmless tie",
  );
  assertEquals(recent.exhausted("k", OLD, last + 1), true);
  assertEquals(recent.exhausted("k", OLD + 1, 5), false);
  assertEquals(recent.exhausted("other", OLD, 5), false);
  write(recent, [{ key: "k", timestamp: OLD, value: -1 }], NOW);
  assertEquals(recent.unordered, 1);
});

Deno.test("recent writes: forgotten after the window once the clock passed their slot, swept every eighth of it", () => {
  const recent = new RecentWrites(10_000, 100);
  // Now-ish: the clock passes the slot within the window.
  write(recent, [{ key: "now", timestamp: NOW_S, value: 1 }], NOW);
  // 2006: the clock's slot for it stays put for months, so a bumped write is kept.
  write(recent, [{ key: "old", timestamp: OLD, value: 1 }], NOW);
  write(recent, [{ key: "old", timestamp: OLD, value: 2 }], NOW);
  assertEquals(recent.size, 2);
  const keys = (now: number) => [...recent.all(now)].map((w) => w.key).sort();
  assertEquals(keys(NOW + 9_500), ["now", "old"]);
  // Past the window, but within an eighth of it since the last sweep.
  assertEquals(keys(NOW + 10_001), ["now", "old"]);
  assertEquals(keys(NOW + 10_750), ["old"]);
  assertEquals(recent.size, 1);
  // Long after, a later write takes a larger clock slot anyway.
  assertEquals(recent.get("old", NOW + 5 * 365 * DAY), undefined);
  assertEquals(recent.size, 0);
});

Deno.test("recent writes: rewritten writes stay the window after their last write", () => {
  const recent = new RecentWrites(10_000, 100);
  write(recent, [{ key: "k", timestamp: NOW_S, value: 1 }], NOW);
  write(recent, [{ key: "k", timestamp: NOW_S, value: 2 }], NOW + 8000);
  assertEquals(recent.get("k", NOW + 17_000)?.value(0), 2);
  // Swept an eighth of the window after the last sweep, at 17 s.
  assertEquals(recent.get("k", NOW + 18_250), undefined);
});

Deno.test("recent writes: past maxPoints the oldest quarter of it goes first, counted", () => {
  const recent = new RecentWrites(10_000, 16);
  const points = (key: string) =>
    Array.from(
      { length: 10 },
      (_, i) => ({ key, timestamp: OLD + i, value: i }),
    );
  write(recent, points("a"), NOW);
  write(recent, points("b"), NOW + 1);
  // 20 writes: 4 over, and 4 more for a quarter of 16 free.
  assertEquals(recent.evicted, 8);
  assertEquals(recent.size, 12);
  assertEquals(recent.get("a", NOW + 1)?.length, 2);
  assertEquals(recent.get("b", NOW + 1)?.length, 10);
});

Deno.test("recent writes: a write in flight is not forgotten past maxPoints, and shows once acknowledged", () => {
  const recent = new RecentWrites(10_000, 2);
  const earlier = request([
    { key: "other", timestamp: OLD, value: 2 },
    { key: "other", timestamp: OLD + 1, value: 2 },
  ]);
  const inFlight = request([{ key: "k", timestamp: OLD, value: 1 }]);
  recent.plan(earlier, NOW);
  recent.plan(inFlight, NOW + 1);
  recent.ack(earlier, NOW + 2);
  // 3 writes for 2, a quarter more to free: the acknowledged ones went.
  assertEquals(recent.get("other", NOW + 2), undefined);
  assertEquals(triples(recent.get("k", NOW + 2)), [
    [OLD, NaN, slotOf(inFlight, "k", OLD)],
  ]);
  recent.ack(inFlight, NOW + 3);
  assertEquals(triples(recent.get("k", NOW + 3)), [
    [OLD, 1, slotOf(inFlight, "k", OLD)],
  ]);
});

Deno.test("recent writes: a failed request's new seconds never show, its rewrites keep the value before", () => {
  const recent = new RecentWrites(30_000, 100);
  write(recent, [{ key: "k", timestamp: OLD, value: 1 }], NOW);
  const failed = request([
    { key: "k", timestamp: OLD, value: 2 },
    { key: "k", timestamp: OLD + 1, value: 5 },
  ]);
  recent.plan(failed, NOW);
  recent.fail(failed, NOW);
  write(recent, [{ key: "k", timestamp: OLD + 2, value: 7 }], NOW);
  assertEquals(triples(recent.get("k", NOW)).map((t) => t.slice(0, 2)), [
    [OLD, 1],
    [OLD + 1, NaN],
    [OLD + 2, 7],
  ]);
});

Deno.test("recent writes: out-of-order seconds are kept sorted and found", () => {
  const recent = new RecentWrites(30_000, 1000);
  const seconds = [50, 10, 30, 20, 40, 10, 60, 5].map((s) => OLD + s);
  for (const [i, timestamp] of seconds.entries()) {
    write(recent, [{ key: "k", timestamp, value: i }], NOW);
  }
  const held = triples(recent.get("k", NOW));
  assertEquals(
    held.map(([second]) => second),
    [5, 10, 20, 30, 40, 50, 60].map((s) => OLD + s),
  );
  // Second 10 was written twice: the last value, one slot up.
  assertEquals(held[1].slice(1), [5, clockSlot(OLD, NOW) + 1]);
});

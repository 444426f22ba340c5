import { assert, assertEquals } from "@std/assert";
import {
  CLOCK_SLOTS,
  clockSlot,
  RecentWrites,
  secondOfMs,
  slotMs,
  slotOfMs,
  SLOTS,
} from "../../../../src/server/storage/victoriametrics/order.ts";

const NOW = Date.UTC(2026, 10, 26);
const NOW_S = NOW / 1000;
const DAY = 86_400_000;

Deno.test("slots: every slot of a second lies in that second's dedup interval", () => {
  for (const second of [1, 1150864247, NOW_S]) {
    for (let slot = 0; slot < SLOTS; slot++) {
      const ms = slotMs(second, slot);
      // VictoriaMetrics' interval of second s is (s*1000 - 1000, s*1000].
      assert(ms > second * 1000 - 1000 && ms <= second * 1000);
      assertEquals(secondOfMs(ms), second);
      assertEquals(slotOfMs(ms), slot);
    }
  }
  // A point written whole (another tool, or this one before slots) is the last slot.
  assertEquals(slotOfMs(1150864247000), SLOTS - 1);
});

Deno.test("clock slot: never smaller for a later write, within the clock's range", () => {
  for (const second of [1150864247, NOW_S, NOW_S + 86_400, NOW_S - 3600]) {
    let last = -1;
    for (
      let now = NOW - 3 * DAY;
      now <= NOW + 30 * 365 * DAY;
      now += 3_600_123
    ) {
      const slot = clockSlot(second, now);
      assert(slot >= last, `slot went back at ${now} for ${second}`);
      assert(slot >= 0 && slot < CLOCK_SLOTS);
      last = slot;
    }
  }
});

Deno.test("clock slot: a write later by a tenth of the point's age takes a larger slot", () => {
  for (
    const age of [0, 1000, 60_000, 3_600_000, DAY, 365 * DAY, 20 * 365 * DAY]
  ) {
    const first = clockSlot(NOW_S, NOW + age);
    const later = clockSlot(NOW_S, NOW + age + Math.max(age / 10, 10));
    assert(later > first, `age ${age} ms: ${first} then ${later}`);
  }
  // Future points (up to two days ahead) are ordered too, more coarsely.
  assert(
    clockSlot(NOW_S + 86_400, NOW + 3_600_000) > clockSlot(NOW_S + 86_400, NOW),
  );
});

Deno.test("recent writes: a rewrite takes the clock's slot or the last one plus one", () => {
  const recent = new RecentWrites(30_000, 100);
  const second = 1150864247;
  const clock = clockSlot(second, NOW);
  const first = recent.plan([{ key: "k", timestamp: second, value: 1 }], NOW);
  assertEquals(first.get("k")?.get(second), { value: 1, slot: clock });
  recent.add(first, NOW);
  const second2 = recent.plan([
    { key: "k", timestamp: second, value: 2 },
    { key: "k", timestamp: second, value: 3 },
    { key: "other", timestamp: second, value: 1 },
  ], NOW + 5);
  // One write per second in a batch, the last; only "k" was written before.
  assertEquals(second2.get("k")?.get(second), { value: 3, slot: clock + 1 });
  assertEquals(second2.get("other")?.get(second), { value: 1, slot: clock });
  recent.add(second2, NOW + 5);
  const remembered = recent.get("k", NOW + 5)?.get(second);
  assertEquals([remembered?.value, remembered?.slot], [3, clock + 1]);
  // A recent second: the clock moves fast enough that no bump is needed.
  const fresh = recent.plan([{ key: "f", timestamp: NOW_S, value: 1 }], NOW);
  recent.add(fresh, NOW);
  const again = recent.plan(
    [{ key: "f", timestamp: NOW_S, value: 2 }],
    NOW + 900,
  );
  assertEquals(again.get("f")?.get(NOW_S)?.slot, clockSlot(NOW_S, NOW + 900));
  assert(clockSlot(NOW_S, NOW + 900) > (fresh.get("f")?.get(NOW_S)?.slot ?? 0));
});

Deno.test("recent writes: with every slot used, a new value is flagged and counted", () => {
  const recent = new RecentWrites(30_000, 100);
  const second = 1150864247;
  let writes = 0;
  for (let value = 0;; value++) {
    const plan = recent.plan([{ key: "k", timestamp: second, value }], NOW);
    const slot = plan.get("k")?.get(second)?.slot as number;
    recent.add(plan, NOW);
    writes++;
    if (slot === SLOTS - 1) break;
  }
  assertEquals(writes, SLOTS - clockSlot(second, NOW));
  assertEquals(recent.unordered, 0);
  const last = writes - 1;
  assertEquals(
    recent.exhausted("k", second, last),
    false,
    "same value: a harmless tie",
  );
  assertEquals(recent.exhausted("k", second, last + 1), true);
  assertEquals(recent.exhausted("k", second + 1, 5), false);
  recent.add(
    recent.plan([{ key: "k", timestamp: second, value: -1 }], NOW),
    NOW,
  );
  assertEquals(recent.unordered, 1);
});

Deno.test("recent writes: forgotten after the window once the clock passed their slot", () => {
  const recent = new RecentWrites(10_000, 100);
  // Now-ish: the clock passes the slot within the window.
  recent.add(
    recent.plan([{ key: "now", timestamp: NOW_S, value: 1 }], NOW),
    NOW,
  );
  // 2006: the clock's slot for it stays put for months, so a bumped write is kept.
  const old = 1150864247;
  recent.add(recent.plan([{ key: "old", timestamp: old, value: 1 }], NOW), NOW);
  recent.add(recent.plan([{ key: "old", timestamp: old, value: 2 }], NOW), NOW);
  assertEquals(recent.size, 2);
  assertEquals([...recent.keys(NOW + 10_000)].sort(), ["now", "old"]);
  assertEquals([...recent.keys(NOW + 10_001)], ["old"]);
  assertEquals(recent.size, 1);
  // Long after, a later write takes a larger clock slot anyway.
  assertEquals(recent.get("old", NOW + 5 * 365 * DAY), undefined);
  assertEquals(recent.size, 0);
});

Deno.test("recent writes: rewritten entries stay the window after their last write", () => {
  const recent = new RecentWrites(10_000, 100);
  const write = (value: number, at: number) =>
    recent.add(recent.plan([{ key: "k", timestamp: NOW_S, value }], at), at);
  write(1, NOW);
  write(2, NOW + 8000);
  assertEquals(recent.get("k", NOW + 17_000)?.get(NOW_S)?.value, 2);
  assertEquals(recent.get("k", NOW + 18_001), undefined);
});

Deno.test("recent writes: bounded in points, the oldest forgotten first and counted", () => {
  const recent = new RecentWrites(10_000, 3);
  recent.add(recent.plan([{ key: "a", timestamp: NOW_S, value: 1 }], NOW), NOW);
  recent.add(
    recent.plan(
      [1, 2, 3].map((i) => ({ key: "b", timestamp: NOW_S + i, value: i })),
      NOW,
    ),
    NOW,
  );
  assertEquals(recent.get("a", NOW), undefined);
  assertEquals(recent.get("b", NOW)?.size, 3);
  assertEquals(recent.evicted, 1);
  assertEquals(recent.size, 3);
});

import { assert, assertEquals } from "@std/assert";
import {
  CLOCK_SLOTS,
  clockSlot,
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

import { assertAlmostEquals, assertEquals } from "@std/assert";
import { RATE_WINDOW, ServerCounters } from "../../src/server/counters.ts";
import { Rng } from "../reliability/rng.ts";

Deno.test("puts per second match a plain sum over the last 10 whole seconds, whatever the gaps between puts", () => {
  // Puts at random moments with gaps of 0 to 25 s, so the ring of 11
  // seconds is cleared after every length of quiet; the oracle keeps every
  // put and sums the window's seconds directly.
  const rng = new Rng(27);
  const counters = new ServerCounters();
  const puts: [second: number, count: number][] = [];
  let now = 1_700_000_000_000;
  let total = 0;
  for (let step = 0; step < 20_000; step++) {
    now += rng.chance(0.7) ? rng.int(0, 1500) : rng.int(0, 25_000);
    if (rng.chance(0.6)) {
      const count = rng.int(1, 1000);
      counters.stored(count, now);
      puts.push([Math.floor(now / 1000), count]);
      total += count;
    } else {
      const second = Math.floor(now / 1000);
      let sum = 0;
      for (const [at, count] of puts) {
        if (at >= second - RATE_WINDOW && at < second) sum += count;
      }
      assertAlmostEquals(
        counters.putsPerSecond(now),
        sum / RATE_WINDOW,
        1e-9,
        `step ${step}, at ${now} ms`,
      );
    }
  }
  assertEquals(counters.pointsPut, total);
});

import { assert } from "@std/assert";
import { IO_INTERVAL_MS, nextTurn } from "../../src/internal/turn.ts";

/** Keeps the thread busy for `ms`, as a slice of a big answer does. */
function work(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

Deno.test("after IO_INTERVAL_MS of work, nextTurn lets a waiting timer in before it resolves", async () => {
  // A timer turn runs the timers (and polls sockets) due before it; an
  // immediate turn would resolve first and keep them waiting.
  for (let round = 0; round < 20; round++) {
    await nextTurn();
    work(IO_INTERVAL_MS + 2);
    let fired = false;
    setTimeout(() => fired = true, 0);
    await nextTurn();
    assert(fired, `round ${round}: the timer was still waiting`);
  }
});

Deno.test("soon after a turn that let I/O in, nextTurn is an immediate one, which costs no timer", async () => {
  // Up to 5 tries: a busy machine may pause this thread past the interval.
  let immediate = false;
  for (let attempt = 0; attempt < 5 && !immediate; attempt++) {
    work(IO_INTERVAL_MS + 2);
    await nextTurn(); // a timer turn: lets I/O in
    await nextTurn(); // now within the interval
    let fired = false;
    const timer = new Promise((resolve) =>
      setTimeout(() => resolve(fired = true), 0)
    );
    await nextTurn();
    immediate = !fired;
    await timer;
  }
  assert(immediate, "every turn waited for a timer");
});

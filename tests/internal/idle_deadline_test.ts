import { assert, assertEquals } from "@std/assert";
import { IdleDeadline } from "../../src/internal/idle_deadline.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("an idle deadline aborts with a TimeoutError after a silence", async () => {
  using deadline = new IdleDeadline(50);
  const started = performance.now();
  await new Promise((resolve) =>
    deadline.signal.addEventListener("abort", resolve)
  );
  assert(performance.now() - started >= 45);
  assertEquals((deadline.signal.reason as DOMException).name, "TimeoutError");
});

Deno.test("progress keeps an idle deadline from firing, however long in all", async () => {
  using deadline = new IdleDeadline(500);
  // 30 × 50 ms: three times the deadline in all, never 500 ms silent.
  for (let i = 0; i < 30; i++) {
    await sleep(50);
    deadline.progress();
  }
  assertEquals(deadline.signal.aborted, false);
});

Deno.test("a disposed idle deadline never aborts", async () => {
  const deadline = new IdleDeadline(20);
  deadline[Symbol.dispose]();
  await sleep(60);
  assertEquals(deadline.signal.aborted, false);
});

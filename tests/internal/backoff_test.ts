import { assert, assertEquals } from "@std/assert";
import { backoffDelay } from "../../src/internal/backoff.ts";

Deno.test("backoff grows exponentially, is capped and jittered", () => {
  assertEquals(backoffDelay(0, 50, 2000, () => 0), 25);
  assertEquals(backoffDelay(0, 50, 2000, () => 1), 50);
  assertEquals(backoffDelay(3, 50, 2000, () => 1), 400);
  assertEquals(backoffDelay(20, 50, 2000, () => 1), 2000);
  for (let attempt = 0; attempt < 10; attempt++) {
    const cap = Math.min(2000, 50 * 2 ** attempt);
    const delay = backoffDelay(attempt, 50, 2000);
    assert(delay >= cap / 2 && delay <= cap, `${attempt}: ${delay}`);
  }
});

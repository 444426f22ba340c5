import { assertEquals } from "@std/assert";
import {
  outcomeOf,
  PendingBatches,
  type PendingBudget,
} from "../../src/server/pending.ts";
import { StorageRefusal } from "../../src/server/storage/storage.ts";

Deno.test("pending: the first batch always fits, more only within the server's budget", () => {
  const budget: PendingBudget = { used: 0, max: 10 };
  const a = new PendingBatches(budget);
  const b = new PendingBatches(budget);
  assertEquals(a.hasRoom(50), true);
  a.push(50, [], new Promise(() => {}));
  assertEquals(budget.used, 50);
  assertEquals(a.hasRoom(1), false);
  // Another connection still gets its first batch.
  assertEquals(b.hasRoom(5), true);
  a.abandon();
  b.push(4, [], new Promise(() => {}));
  assertEquals(b.hasRoom(6), true);
  assertEquals(b.hasRoom(7), false);
  assertEquals(budget.used, 4);
});

Deno.test("pending: how a put ended, whether it returned, threw or rejected", async () => {
  assertEquals(outcomeOf(() => {}), { kind: "stored" });
  assertEquals(await outcomeOf(() => Promise.resolve()), { kind: "stored" });
  assertEquals(
    outcomeOf(() => {
      throw new StorageRefusal("storage full");
    }),
    { kind: "refused", reason: "storage full" },
  );
  assertEquals(
    await outcomeOf(() => Promise.reject(new StorageRefusal("too many keys"))),
    { kind: "refused", reason: "too many keys" },
  );
  const error = new Error("disk on fire");
  assertEquals(await outcomeOf(() => Promise.reject(error)), {
    kind: "failed",
    error,
  });
});

Deno.test("pending: settled batches are taken oldest first, never past an unsettled one", async () => {
  const budget: PendingBudget = { used: 0, max: 100 };
  const pending = new PendingBatches(budget);
  const settle: (() => void)[] = [];
  for (const count of [1, 2, 3]) {
    pending.push(
      count,
      [],
      new Promise((resolve) => settle.push(() => resolve({ kind: "stored" }))),
    );
  }
  settle[2]();
  settle[1]();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(pending.takeSettled(), undefined);
  settle[0]();
  await pending.oldest();
  assertEquals(
    [pending.takeSettled(), pending.takeSettled(), pending.takeSettled()]
      .map((batch) => batch?.count),
    [1, 2, 3],
  );
  assertEquals(pending.takeSettled(), undefined);
  assertEquals([pending.length, budget.used], [0, 0]);
});

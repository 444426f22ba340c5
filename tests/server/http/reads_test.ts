/** The line of store reads: a few run at once, a few wait, the rest are turned away. */

import { assertEquals } from "@std/assert";
import { ReadQueue } from "../../../src/server/http/reads.ts";

/** A read that finishes when told to, and says when it started. */
function gatedRead(started: number[], id: number) {
  const gate = Promise.withResolvers<number>();
  return {
    finish: () => gate.resolve(id),
    read: () => {
      started.push(id);
      return gate.promise;
    },
  };
}

Deno.test("at most maxActive reads run at once; the next waiting one starts as one ends", async () => {
  const queue = new ReadQueue(2, 10);
  const started: number[] = [];
  const reads = [0, 1, 2, 3].map((id) => gatedRead(started, id));
  const results = reads.map((r) => queue.run(r.read)!);
  assertEquals(started, [0, 1]);
  assertEquals([queue.active, queue.queued], [2, 2]);
  reads[1].finish();
  assertEquals(await results[1], 1);
  assertEquals(started, [0, 1, 2]);
  assertEquals([queue.active, queue.queued], [2, 1]);
  reads[0].finish();
  reads[2].finish();
  await results[2];
  reads[3].finish();
  assertEquals(await Promise.all(results), [0, 1, 2, 3]);
  assertEquals(started, [0, 1, 2, 3]);
  assertEquals([queue.active, queue.queued], [0, 0]);
});

Deno.test("past maxQueued waiting reads, a read is turned away at once", async () => {
  const queue = new ReadQueue(1, 1);
  const started: number[] = [];
  const running = gatedRead(started, 0);
  const waiting = gatedRead(started, 1);
  const first = queue.run(running.read);
  const second = queue.run(waiting.read);
  assertEquals(queue.run(gatedRead(started, 2).read), undefined);
  running.finish();
  waiting.finish();
  assertEquals(await Promise.all([first, second]), [0, 1]);
  // Room again: a new read runs.
  assertEquals(await queue.run(() => Promise.resolve(7)), 7);
});

Deno.test("a read that fails gives its place to the next", async () => {
  const queue = new ReadQueue(1, 1);
  const failing = queue.run(() => Promise.reject(new Error("store down")));
  const next = queue.run(() => Promise.resolve("ok"));
  await failing!.catch(() => {});
  assertEquals(await next, "ok");
  assertEquals(queue.active, 0);
});

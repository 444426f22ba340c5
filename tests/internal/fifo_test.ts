import { assertEquals } from "@std/assert";
import { Fifo } from "../../src/internal/fifo.ts";
import { Rng } from "../reliability/rng.ts";

Deno.test("fifo keeps order through shift, drain and unshiftAll", () => {
  const q = new Fifo<number>();
  for (let i = 0; i < 100; i++) q.push(i);
  for (let i = 0; i < 60; i++) assertEquals(q.shift(), i);
  assertEquals(q.length, 40);
  q.unshiftAll([-2, -1]);
  assertEquals(q.shift(), -2);
  assertEquals(q.drain(), [
    -1,
    ...Array.from({ length: 40 }, (_, i) => 60 + i),
  ]);
  assertEquals(q.shift(), undefined);
  assertEquals(q.length, 0);
});

Deno.test("fifo matches a plain array through 200,000 random pushes, shifts and resends", () => {
  // Crosses the compaction of the dead prefix many times, at odd sizes.
  const rng = new Rng(12345);
  const random = (n: number): number => rng.int(0, n - 1);
  const q = new Fifo<number>();
  let model: number[] = [];
  let next = 0;
  for (let op = 0; op < 200_000; op++) {
    const roll = random(100);
    if (roll < 55) {
      q.push(next);
      model.push(next++);
    } else if (roll < 97) {
      assertEquals(q.shift(), model.shift(), `shift at op ${op}`);
    } else if (roll < 99) {
      const back = Array.from({ length: random(5) }, () => next++);
      q.unshiftAll(back);
      model = [...back, ...model];
    } else {
      assertEquals(q.peek(), model[0], `peek at op ${op}`);
    }
    if (q.length !== model.length) {
      throw new Error(`length ${q.length}, model ${model.length} at op ${op}`);
    }
  }
  assertEquals(q.drain(), model);
});

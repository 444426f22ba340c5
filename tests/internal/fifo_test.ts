import { assertEquals } from "@std/assert";
import { Fifo } from "../../src/internal/fifo.ts";

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

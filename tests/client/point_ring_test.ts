import { assertEquals } from "@std/assert";
import { PointRing } from "../../src/client/point_ring.ts";
import { Rng } from "../reliability/rng.ts";

/** Everything in the ring, oldest first, taken out. */
function drain(ring: PointRing): [string, number, number][] {
  const out: [string, number, number][] = [];
  ring.take(ring.length, (key, value, timestamp) => {
    out.push([key, value, timestamp]);
  });
  return out;
}

Deno.test("PointRing matches a plain array through 300,000 random pushes, takes and shifts, across block boundaries with the head anywhere", () => {
  for (const max of [1, 7, 1000, 1024, 5000, 100_000]) {
    const rng = new Rng(max);
    const random = (n: number): number => rng.int(0, n - 1);
    const ring = new PointRing(max);
    let model: [string, number, number][] = [];
    let next = 0;
    const ops = max === 100_000 ? 300_000 : 30_000;
    for (let op = 0; op < ops; op++) {
      // Phases that fill the ring (growing it with its head anywhere) and
      // phases that drain it.
      const filling = Math.floor(op / 4000) % 2 === 0;
      const roll = random(100);
      if (roll < (filling ? 97 : 70)) {
        const point: [string, number, number] = [`k${next}`, next / 4, next];
        next++;
        const dropped = ring.push(...point);
        model.push(point);
        const over = model.length > max;
        if (over) model.shift();
        if (dropped !== over) throw new Error(`drop ${dropped} at op ${op}`);
      } else if (roll < 90) {
        const n = random(Math.min(model.length, 50) + 1);
        const taken: [string, number, number][] = [];
        ring.take(n, (key, value, timestamp) => {
          taken.push([key, value, timestamp]);
        });
        assertEquals(taken, model.slice(0, n), `take ${n} at op ${op}`);
        model = model.slice(n);
      } else {
        const n = random(Math.min(model.length, 5) + 1);
        ring.shift(n);
        model = model.slice(n);
      }
      if (ring.length !== model.length) {
        throw new Error(`length ${ring.length}, model ${model.length}`);
      }
    }
    assertEquals(drain(ring), model, `max ${max}`);
  }
});

Deno.test("PointRing holds at most max points and drops the oldest first", () => {
  const ring = new PointRing(3);
  const dropped = [1, 2, 3, 4, 5].map((i) => ring.push(`k${i}`, i, i));
  assertEquals(dropped, [false, false, false, true, true]);
  assertEquals(drain(ring), [["k3", 3, 3], ["k4", 4, 4], ["k5", 5, 5]]);
});

Deno.test("PointRing keeps every point when an emptied block is reused and more blocks fill before the next one empties", () => {
  const ring = new PointRing(100_000);
  const model: [string, number, number][] = [];
  let next = 0;
  const push = (n: number): void => {
    for (let i = 0; i < n; i++, next++) {
      ring.push(`k${next}`, next / 4, next);
      model.push([`k${next}`, next / 4, next]);
    }
  };
  push(3 * 4096 + 10);
  ring.shift(4096 + 5); // the first block empties: it is kept for reuse
  model.splice(0, 4096 + 5);
  push(2 * 4096 + 7); // two new blocks: the reused one, then a fresh one
  assertEquals(drain(ring), model);
});

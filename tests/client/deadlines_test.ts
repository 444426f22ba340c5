import { assertEquals } from "@std/assert";
import { Deadlines } from "../../src/client/deadlines.ts";
import { delay } from "../helpers/stub_server.ts";

interface Item {
  readonly name: string;
  readonly deadline: number;
  settled: boolean;
}

const item = (name: string, inMs: number): Item => ({
  name,
  deadline: performance.now() + inMs,
  settled: false,
});

Deno.test("Deadlines expires items in order, each once, and skips settled ones", async () => {
  const expired: string[] = [];
  const deadlines = new Deadlines<Item>((i) => expired.push(i.name));
  const [a, b, c, d] = [
    item("a", 10),
    item("b", 10),
    item("c", 30),
    item("d", 200),
  ];
  for (const i of [a, b, c, d]) deadlines.track(i);
  b.settled = true;
  await delay(60);
  assertEquals(expired, ["a", "c"]);
  deadlines.clear();
  await delay(5);
  assertEquals(expired, ["a", "c"]); // cleared: d never expires
});

Deno.test("Deadlines re-arms for a later item after the oldest settled", async () => {
  const expired: string[] = [];
  const deadlines = new Deadlines<Item>((i) => expired.push(i.name));
  const first = item("first", 10);
  deadlines.track(first);
  deadlines.track(item("second", 40));
  first.settled = true;
  await delay(20);
  assertEquals(expired, []);
  await delay(40);
  assertEquals(expired, ["second"]);
  deadlines.clear();
});

import { assertEquals } from "@std/assert";
import { encodeImport } from "../../../../src/server/storage/victoriametrics/import_body.ts";
import type { RequestWrites } from "../../../../src/server/storage/victoriametrics/batch.ts";
import { slotMs } from "../../../../src/server/storage/victoriametrics/order.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("import body: one JSON line per key, values as Python spells them, each second at its slot's millisecond", () => {
  const batches: RequestWrites = {
    keys: ["palm.cpu", 'a"b'],
    starts: new Int32Array([0, 3]),
    ends: new Int32Array([2, 4]),
    // A hole between the keys, as deduplication leaves.
    seconds: new Float64Array([1150864247, 1150864248, 99, 1]),
    values: new Float64Array([0.5, 2, 99, -0]),
    slots: new Int32Array([999, 0, 99, 5]),
  };
  const body = decode(encodeImport(batches));
  assertEquals(
    body,
    '{"metric":{"__name__":"palm.cpu"},"values":[0.5,2.0],"timestamps":[1150864247000,1150864247001]}\n' +
      '{"metric":{"__name__":"a\\"b"},"values":[-0.0],"timestamps":[6]}\n',
  );
});

Deno.test("import body: every value reads back exactly as JSON, keys of any size", () => {
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const values = [
    1 / 3,
    -1e-300,
    1.7976931348623157e308,
    5e-324,
    123456789.123456,
    -(2 ** 53),
    ...Array.from(
      { length: 2000 },
      () => (random() - 0.5) * 10 ** (random() * 40 - 20),
    ),
    ...Array.from({ length: 2000 }, () => Math.round(random() * 1e6) / 100),
  ];
  const batches: RequestWrites = {
    keys: ["€".repeat(5000)],
    starts: new Int32Array([0]),
    ends: new Int32Array([values.length]),
    seconds: Float64Array.from(values, (_, i) => 1 + i),
    values: Float64Array.from(values),
    slots: Int32Array.from(values, (_, i) => i % 1000),
  };
  const line = JSON.parse(decode(encodeImport(batches)));
  assertEquals(line.metric.__name__, "€".repeat(5000));
  assertEquals(line.values, values.map((v) => Object.is(v, -0) ? 0 : v));
  assertEquals(
    line.timestamps,
    values.map((_, i) => (1 + i) * 1000 - 999 + i % 1000),
  );
});

Deno.test("import body: written into a spare buffer of old bytes, the same body", () => {
  const request: RequestWrites = {
    keys: ["k", "other"],
    starts: new Int32Array([0, 2]),
    ends: new Int32Array([2, 3]),
    seconds: new Float64Array([1150864247, 1150864248, 7]),
    values: new Float64Array([0.25, 3, -1]),
    slots: new Int32Array([1, 2, 3]),
  };
  const expected = decode(encodeImport(request));
  const spare = new Uint8Array(4096).fill(0x7b);
  const body = encodeImport(request, spare);
  assertEquals(decode(body), expected);
  assertEquals(body.buffer, spare.buffer);
  // A spare too small for the request is not used.
  const small = new Uint8Array(8).fill(0x7b);
  assertEquals(decode(encodeImport(request, small)), expected);
  assertEquals([...small], new Array(8).fill(0x7b));
});

Deno.test("import body: every slot of a second is written at its slotMs millisecond", () => {
  const slots = Array.from({ length: 1000 }, (_, i) => i);
  for (const second of [1, 2, 1000, 1150864247, 4102444800]) {
    const request: RequestWrites = {
      keys: ["k"],
      starts: new Int32Array([0]),
      ends: new Int32Array([1000]),
      // One second per slot: seconds ascend, the slot does the rest.
      seconds: new Float64Array(slots.map((i) => second + i)),
      values: new Float64Array(1000),
      slots: new Int32Array(slots),
    };
    const line = JSON.parse(decode(encodeImport(request)));
    assertEquals(line.timestamps, slots.map((i) => slotMs(second + i, i)));
  }
});

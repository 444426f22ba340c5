import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  decodeGetResponse,
  decodePutResponse,
  encodeGet,
  encodePut,
  encodePutMany,
} from "../../src/client/codec.ts";
import {
  type ResponseFrame,
  ResponseParser,
} from "../../src/client/response_parser.ts";
import { assertKind } from "../helpers/client_error.ts";
import { assertSameLines } from "../helpers/same_lines.ts";

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

function frameOf(text: string): ResponseFrame {
  const parser = new ResponseParser(1 << 20);
  parser.push(bytes(text));
  const frame = parser.next();
  if (!frame) throw new Error(`no complete frame in ${JSON.stringify(text)}`);
  return frame;
}

Deno.test("encodePut writes values as Python's repr does, as the reference clients do", () => {
  assertEquals(encodePut("palm.cpu", 301, 1), "put palm.cpu 301.0 1\n");
  assertEquals(
    encodePut("palm.cpu", 0.5, 1150864247),
    "put palm.cpu 0.5 1150864247\n",
  );
  assertEquals(encodePut("k", 2.0, 1), "put k 2.0 1\n");
  assertEquals(encodePut("k", -1.25, -5), "put k -1.25 -5\n");
  assertEquals(encodePut("k", 1e-7, 1), "put k 1e-07 1\n");
  assertEquals(encodePut("k", 0.00001, 1), "put k 1e-05 1\n");
  assertEquals(encodePut("k", 1e16, 1), "put k 1e+16 1\n");
  assertEquals(encodePut("k", -0, 1), "put k -0.0 1\n");
  assertEquals(encodePut("k", 0.1 + 0.2, 1), "put k 0.30000000000000004 1\n");
});

Deno.test("encodePut rejects keys that could break the wire", async (t) => {
  for (
    const key of [
      "",
      "*",
      "a b",
      "a\tb",
      "a\nput x 1.0 2",
      "a\r",
      "a\0",
      "\u00a0",
      "a\u2028",
      "\ud800",
    ]
  ) {
    await t.step(JSON.stringify(key), () => {
      assertKind(() => encodePut(key, 1, 1), "invalid_argument");
    });
  }
  assertKind(() => encodePut(7 as unknown as string, 1, 1), "invalid_argument");
});

Deno.test("encodePut rejects values that are not finite numbers", () => {
  for (const value of [NaN, Infinity, -Infinity, "1" as unknown as number]) {
    assertKind(() => encodePut("k", value, 1), "invalid_argument");
  }
});

Deno.test("encodePut rejects timestamps that are not safe integers", () => {
  for (const ts of [1.5, NaN, 2 ** 53, Infinity, "1" as unknown as number]) {
    const error = assertKind(() => encodePut("k", 1, ts), "invalid_argument");
    assert(error.message.includes("Unix seconds"), error.message);
  }
});

Deno.test("encodeGet accepts * and rejects bad keys", () => {
  assertEquals(encodeGet("*"), "get *\n");
  assertEquals(encodeGet("palm.cpu"), "get palm.cpu\n");
  for (const key of ["", "a b", "a\n"]) {
    assertKind(() => encodeGet(key), "invalid_argument");
  }
});

Deno.test("decodePutResponse accepts exactly ok", () => {
  decodePutResponse(frameOf("ok\n\n"));
  const error = assertKind(
    () => decodePutResponse(frameOf("error\nwrong command\n\n")),
    "server_error",
  );
  assert(error.message.includes("wrong command"), error.message);
  assertKind(
    () => decodePutResponse(frameOf("ok\nk 1 2\n\n")),
    "malformed_response",
  );
  assertKind(() => decodePutResponse(frameOf("OK\n\n")), "malformed_response");
  assertKind(() => decodePutResponse(frameOf("\n\n")), "malformed_response");
});

Deno.test("decodeGetResponse returns the docs/protocol.md example", () => {
  const metrics = decodeGetResponse(
    frameOf(
      "ok\npalm.cpu 0.5 1150864247\npalm.cpu 0.5 1150864248\neardrum.cpu 3.0 1150864250\n\n",
    ),
  );
  assertEquals({ ...metrics }, {
    "palm.cpu": [[1150864247, 0.5], [1150864248, 0.5]],
    "eardrum.cpu": [[1150864250, 3]],
  });
  assertStrictEquals(Object.getPrototypeOf(metrics), null);
});

Deno.test("decodeGetResponse of ok without data is empty", () => {
  assertEquals(Object.keys(decodeGetResponse(frameOf("ok\n\n"))), []);
});

Deno.test("decodeGetResponse sorts each key by timestamp, stably", () => {
  const metrics = decodeGetResponse(
    frameOf("ok\na 1 30\nb 9 5\na 2 10\na 3 30\na 4 10\nb 8 1\n\n"),
  );
  assertEquals(metrics["a"], [[10, 2], [10, 4], [30, 1], [30, 3]]);
  assertEquals(metrics["b"], [[1, 8], [5, 9]]);
});

Deno.test("decodeGetResponse keeps __proto__ and constructor as data", () => {
  const metrics = decodeGetResponse(
    frameOf("ok\n__proto__ 1 1\nconstructor 2 2\ntoString 3 3\n\n"),
  );
  assertEquals(metrics["__proto__"], [[1, 1]]);
  assertEquals(metrics["constructor"], [[2, 2]]);
  assertEquals(Object.keys(metrics), ["__proto__", "constructor", "toString"]);
  assertStrictEquals(Object.getPrototypeOf(metrics), null);
});

Deno.test("decodeGetResponse reads data lines split as the server splits requests", async (t) => {
  const lines = [
    "palm.cpu 0.5 1150864247 ", // a real server's trailing space
    "palm.cpu  0.5 1150864247",
    " palm.cpu 0.5 1150864247",
    "\tpalm.cpu 0.5 1150864247",
    "palm.cpu\t0.5\t1150864247",
    "palm.cpu 0.5 1150864247\r",
    "palm.cpu 0.5 1150864247 \r",
  ];
  for (const line of lines) {
    await t.step(JSON.stringify(line), () => {
      assertEquals(
        { ...decodeGetResponse(frameOf(`ok\n${line}\n${line}\n\n`)) },
        { "palm.cpu": [[1150864247, 0.5], [1150864247, 0.5]] },
      );
    });
  }
});

Deno.test("encodePut refuses timestamps past the year 9999, naming milliseconds", () => {
  assertEquals(
    encodePut("k", 1, 253402300799),
    "put k 1.0 253402300799\n",
  );
  const error = assertKind(
    () => encodePut("k", 1, 1764115200000),
    "invalid_argument",
  );
  assert(error.message.includes("milliseconds"), error.message);
});

Deno.test("decodeGetResponse reads nan, inf and timestamps past 2^53 as peers' servers store them", () => {
  const metrics = decodeGetResponse(frameOf(
    "ok\nk nan 1\nk NaN 2\nk inf 3\nk -Infinity 4\nk +INF 5\n" +
      "k 0.5 1764115200123456789\n\n",
  ));
  assertEquals(metrics.k, [
    [1, NaN],
    [2, NaN],
    [3, Infinity],
    [4, -Infinity],
    [5, Infinity],
    [1764115200123456789, 0.5],
  ]);
});

Deno.test("decodeGetResponse of get key refuses another key's line: merged answers", () => {
  const frame = frameOf("ok\na.k 1 1\nb.k 2 2\n\n");
  const error = assertKind(
    () => decodeGetResponse(frame, "a.k"),
    "malformed_response",
  );
  assert(error.message.includes("maxInFlight: 1"), error.message);
  assertEquals(Object.keys(decodeGetResponse(frame, "*")), ["a.k", "b.k"]);
});

Deno.test("decodeGetResponse keeps a byte-order mark as part of the key", () => {
  const metrics = decodeGetResponse(
    frameOf("ok\n\uFEFFpalm.cpu 0.5 1\npalm.cpu 2.0 2\n\n"),
  );
  assertEquals(Object.keys(metrics), ["\uFEFFpalm.cpu", "palm.cpu"]);
  assertEquals(metrics["\uFEFFpalm.cpu"], [[1, 0.5]]);
  assertEquals(metrics["palm.cpu"], [[2, 2]]);
});

Deno.test("decodeGetResponse rejects malformed data lines", async (t) => {
  const lines = [
    "palm.cpu 0,5 1150864248",
    "palm.cpu abc 1",
    "palm.cpu 1 1.5",
    "palm.cpu nanx 1",
    "palm.cpu infinit 1",
    "palm.cpu 1",
    "palm.cpu 1 2 3",
    "palm.cpu 1 2\r\r",
    "palm.cpu 1\r2",
    "palm.cpu 1 2 \t 3",
    " ",
    "ok",
    "error",
    "a\tb 1 2",
  ];
  for (const line of lines) {
    await t.step(JSON.stringify(line), () => {
      assertKind(
        () => decodeGetResponse(frameOf(`ok\ngood 1 1\n${line}\n\n`)),
        "malformed_response",
      );
    });
  }
  await t.step("invalid UTF-8", () => {
    const parser = new ResponseParser(64);
    parser.push(
      new Uint8Array([
        0x6f,
        0x6b,
        0x0a,
        0xff,
        0x20,
        0x31,
        0x20,
        0x31,
        0x0a,
        0x0a,
      ]),
    );
    const frame = parser.next()!;
    assertKind(() => decodeGetResponse(frame), "malformed_response");
  });
  await t.step("server error", () => {
    assertKind(
      () => decodeGetResponse(frameOf("error\nwrong command\n\n")),
      "server_error",
    );
  });
});

Deno.test("encodePutMany encodes every point and where it ends, across its growths", () => {
  // `ends` starts at 1,024 entries and doubles; counts on both sides of
  // each boundary, odd ones too. Each point's bytes, cut at its `ends`,
  // must be encodePut's line for that point.
  const keys = ["cpu", "ключ.k", "k𝔘", "a.b.c"];
  for (const count of [1023, 1024, 1025, 2047, 2049, 4097, 20_001]) {
    const points = Array.from({ length: count }, (_, i) => ({
      key: `${keys[i % keys.length]}.${i}`,
      value: i % 3 === 0 ? i / 8 : -i,
      timestamp: i % 5 === 0 ? undefined : 1_700_000_000 + i,
    }));
    const { bytes, ends } = encodePutMany(points, 42, Infinity, () => {
      throw new Error("no limit");
    });
    assertEquals(ends.length, count);
    const decoder = new TextDecoder();
    const lines = Array.from(
      ends,
      (end, i) =>
        decoder.decode(bytes.subarray(i === 0 ? 0 : ends[i - 1], end)),
    );
    assertEquals(ends[count - 1], bytes.length);
    assertSameLines(
      lines,
      points.map((p) => encodePut(p.key, p.value, p.timestamp ?? 42)),
      `${count} points`,
    );
  }
});

Deno.test("encodePutMany names an invalid point past the 1,024th by its index", () => {
  const points = Array.from({ length: 3001 }, (_, i) => ({
    key: i === 2500 ? "bad key" : `k${i}`,
    value: i,
    timestamp: 1,
  }));
  const error = assertKind(
    () =>
      encodePutMany(points, 1, Infinity, () => new Error("no limit") as never),
    "invalid_argument",
  );
  assertEquals(error.failures?.map((f) => f.index), [2500]);
  assert(error.message.includes("1 of 3001 points"), error.message);
});

Deno.test("a put at 9999-12-31T23:59:59Z is encoded; one second later is refused as milliseconds", () => {
  assertEquals(encodePut("k", 1, 253402300799), "put k 1.0 253402300799\n");
  const error = assertKind(
    () => encodePut("k", 1, 253402300800),
    "invalid_argument",
  );
  assert(error.message.includes("past the year 9999"), error.message);
});

Deno.test("data after the ok to a put is quoted in the error", () => {
  const error = assertKind(
    () => decodePutResponse(frameOf("ok\nsurprise 1 2\n\n")),
    "malformed_response",
  );
  assert(error.message.includes('"surprise 1 2\\n"'), error.message);
});

Deno.test("get reads a signed nan as NaN, as Python's float() does", () => {
  const metrics = decodeGetResponse(
    frameOf("ok\na -nan 1\na +NaN 2\na -inf 3\n\n"),
  );
  assertEquals(metrics, { a: [[1, NaN], [2, NaN], [3, -Infinity]] });
});

Deno.test("a bad data line is quoted without its newline", () => {
  const error = assertKind(
    () => decodeGetResponse(frameOf("ok\na b\n\n")),
    "malformed_response",
  );
  assert(error.message.includes('data line "a b";'), error.message);
});

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { ClientError, type ClientErrorKind } from "../src/errors.ts";
import {
  decodeGetResponse,
  decodePutResponse,
  encodeGet,
  encodePut,
  isValidKey,
  parseFloatText,
  parseIntegerText,
  type ResponseFrame,
  ResponseParser,
} from "../src/protocol.ts";
import { backoffDelay } from "../src/backoff.ts";
import { Fifo } from "../src/fifo.ts";

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

function assertKind(fn: () => unknown, kind: ClientErrorKind): ClientError {
  const error = assertThrows(fn);
  assertInstanceOf(error, ClientError);
  assertEquals(error.kind, kind, error.message);
  assertEquals(error.name, "ClientError");
  return error;
}

/** Every frame of `text`, fed to a fresh parser in the given chunks. */
function frames(chunks: string[], max = 1024): [string, string][] {
  const parser = new ResponseParser(max);
  const out: [string, string][] = [];
  for (const chunk of chunks) {
    parser.push(bytes(chunk));
    for (let f = parser.next(); f; f = parser.next()) {
      out.push([f.status, new TextDecoder().decode(f.body)]);
    }
  }
  return out;
}

function frameOf(text: string): ResponseFrame {
  const parser = new ResponseParser(1 << 20);
  parser.push(bytes(text));
  const frame = parser.next();
  if (!frame) throw new Error(`no complete frame in ${JSON.stringify(text)}`);
  return frame;
}

Deno.test("encodePut writes values in JavaScript's shortest form", () => {
  assertEquals(encodePut("palm.cpu", 301, 1), "put palm.cpu 301 1\n");
  assertEquals(
    encodePut("palm.cpu", 0.5, 1150864247),
    "put palm.cpu 0.5 1150864247\n",
  );
  assertEquals(encodePut("k", 2.0, 1), "put k 2 1\n");
  assertEquals(encodePut("k", -1.25, -5), "put k -1.25 -5\n");
  assertEquals(encodePut("k", 1e-7, 1), "put k 1e-7 1\n");
  assertEquals(encodePut("k", -0, 1), "put k -0 1\n");
  assertEquals(encodePut("k", 0.1 + 0.2, 1), "put k 0.30000000000000004 1\n");
});

Deno.test("encodePut rejects keys that could break the wire", async (t) => {
  for (
    const key of [
      "",
      "*",
      "a b",
      "a\tb",
      "a\nput x 1 2",
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

Deno.test("number grammars accept decimal text only", () => {
  assertEquals(parseFloatText("0.5"), 0.5);
  assertEquals(parseFloatText("12.0"), 12);
  assertEquals(parseFloatText("-.5"), -0.5);
  assertEquals(parseFloatText("1e-7"), 1e-7);
  for (
    const text of [
      "0,5",
      "abc",
      "nan",
      "inf",
      "Infinity",
      "0x10",
      "",
      " 1",
      "1e999",
      "1_0",
    ]
  ) {
    assertEquals(parseFloatText(text), undefined, text);
  }
  assertEquals(parseIntegerText("1150864247"), 1150864247);
  assertEquals(parseIntegerText("-3"), -3);
  for (const text of ["1.5", "1e3", "", "9007199254740993", "12a"]) {
    assertEquals(parseIntegerText(text), undefined, text);
  }
});

Deno.test("parser splits merged responses", () => {
  assertEquals(frames(["ok\n\nok\na 1 2\n\nerror\nwrong command\n\n"]), [
    ["ok", ""],
    ["ok", "a 1 2\n"],
    ["error", "wrong command\n"],
  ]);
});

Deno.test("parser gives the same frames for every split point", () => {
  const stream =
    "ok\n\nok\npalm.cpu 2.0 1150864247\npalm.cpu 0.5 1150864248\n\n" +
    "error\nwrong command\n\nok\n\n";
  const whole = frames([stream]);
  assertEquals(whole.length, 4);
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j++) {
      assertEquals(
        frames([stream.slice(0, i), stream.slice(i, j), stream.slice(j)]),
        whole,
        `split at ${i}, ${j}`,
      );
    }
  }
  assertEquals(frames([...stream]), whole, "one byte at a time");
});

Deno.test("parser waits for the closing empty line", () => {
  assertEquals(frames(["ok\n", "a 1 2\n"]), []);
  assertEquals(frames(["ok\n", "a 1 2\n", "\n"]), [["ok", "a 1 2\n"]]);
});

Deno.test("parser refuses a response beyond maxResponseBytes", () => {
  const parser = new ResponseParser(16);
  parser.push(bytes("ok\n" + "k 1 2\n".repeat(3)));
  const error = assertKind(() => parser.next(), "malformed_response");
  assert(error.message.includes("maxResponseBytes"), error.message);
  // A complete frame larger than the bound is refused too.
  const merged = new ResponseParser(8);
  merged.push(bytes("ok\nk 1 2\n\n"));
  assertKind(() => merged.next(), "malformed_response");
});

Deno.test("parser memory stays bounded by maxResponseBytes", () => {
  const parser = new ResponseParser(1024);
  for (let i = 0; i < 10_000; i++) {
    parser.push(bytes("ok\n\n"));
    assertEquals(parser.next()?.status, "ok");
  }
  assertEquals(parser.buffered, 0);
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

Deno.test("decodeGetResponse returns the PROTOCOL.md example", () => {
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

Deno.test("decodeGetResponse rejects malformed data lines", async (t) => {
  const lines = [
    "palm.cpu 0,5 1150864248",
    "palm.cpu abc 1",
    "palm.cpu 1 1.5",
    "palm.cpu nan 1",
    "palm.cpu 1",
    "palm.cpu 1 2 3",
    "palm.cpu  1 2",
    " palm.cpu 1 2",
    "palm.cpu 1 2 ",
    "palm.cpu 1 2\r",
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
  await t.step("unknown status", () => {
    assertKind(
      () => decodeGetResponse(frameOf("okay\n\n")),
      "malformed_response",
    );
  });
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

Deno.test("isValidKey: the printable-ASCII fast path and the general path agree", () => {
  for (let code = 0; code < 0x300; code++) {
    const char = String.fromCharCode(code);
    const expected = !/[\s\p{Cc}]/u.test(char);
    assertEquals(isValidKey(`a${char}b`), expected, `U+${code.toString(16)}`);
    assertEquals(isValidKey(char), expected, `U+${code.toString(16)}`);
  }
  assertEquals(isValidKey(""), false);
  assertEquals(isValidKey("palm.cpu"), true);
  assertEquals(isValidKey("ключ"), true);
  assertEquals(isValidKey("a\u2028b"), false);
  assertEquals(isValidKey("a\ud800b"), false); // lone surrogate
});

Deno.test("ResponseParser shares one frame for ok with no data, and ignores stale bytes", () => {
  const parser = new ResponseParser(1024);
  const encoder = new TextEncoder();
  parser.push(encoder.encode("ok\npalm.cpu 1 2\n\nok\n\nok\n\n"));
  const withData = parser.next()!;
  assertEquals(withData.status, "ok");
  assertEquals(new TextDecoder().decode(withData.body), "palm.cpu 1 2\n");
  const first = parser.next()!;
  assertStrictEquals(parser.next(), first);
  assertEquals(first.status, "ok");
  assertEquals(first.body.length, 0);
  // The buffer still holds the old bytes (with `\n\n`) past what arrives now.
  parser.push(encoder.encode("ok\n"));
  assertEquals(parser.next(), undefined);
  parser.push(encoder.encode("\n"));
  assertStrictEquals(parser.next(), first);
  assertEquals(parser.next(), undefined);
});

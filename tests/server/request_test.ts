import { assertEquals } from "@std/assert";
import {
  ERROR_RESPONSE,
  errorResponse,
  OK_RESPONSE,
  parseCanonicalPut,
  parseRequest,
  parseRequestFields,
} from "../../src/server/request.ts";

const decoder = new TextDecoder();

Deno.test("parseRequest reads a put", () => {
  assertEquals(parseRequest("put palm.cpu 0.5 1150864247"), {
    kind: "put",
    key: "palm.cpu",
    value: 0.5,
    timestamp: 1150864247,
  });
});

Deno.test("parseRequest reads get of a key and of *", () => {
  assertEquals(parseRequest("get palm.cpu"), { kind: "get", key: "palm.cpu" });
  assertEquals(parseRequest("get *"), { kind: "get", key: "*" });
});

Deno.test("parseRequest is lenient with spaces, tabs and a trailing \\r", async (t) => {
  for (
    const line of [
      "  put k 2 3",
      "put k 2 3  ",
      "put   k  2   3",
      "put k 2 3\r",
      "\tput\tk\t2\t3",
    ]
  ) {
    await t.step(JSON.stringify(line), () => {
      assertEquals(parseRequest(line), {
        kind: "put",
        key: "k",
        value: 2,
        timestamp: 3,
      });
    });
  }
});

Deno.test("parseRequest treats empty and whitespace-only lines as blank", () => {
  for (const line of ["", " ", "\r", " \t \r"]) {
    assertEquals(parseRequest(line), { kind: "blank" }, JSON.stringify(line));
  }
});

Deno.test("parseRequest refuses every malformed request", async (t) => {
  for (
    const line of [
      "got test_key",
      "GET test_key",
      "Put k 1 2",
      "get",
      "get a b",
      "put k 1",
      "put k 1 2 3",
      "put k",
      "put",
      "put k 0,5 1",
      "put k abc 1",
      "put k nan 1",
      "put k NaN 1",
      "put k inf 1",
      "put k Infinity 1",
      "put k 1e999 1",
      "put k 0x10 1",
      "put k 1 1.5",
      "put k 1 1e3",
      "put k 1 abc",
      "put k 1 99999999999999999999",
      "put * 1 2",
      "get k\u0001",
      "put k\u0000 1 2",
      "ok",
    ]
  ) {
    await t.step(JSON.stringify(line), () => {
      assertEquals(parseRequest(line), { kind: "invalid" });
    });
  }
});

Deno.test("parseRequest refuses a line that was not UTF-8 (null)", () => {
  assertEquals(parseRequest(null), { kind: "invalid" });
});

Deno.test("parseRequest accepts float forms and negative integers", () => {
  const cases: [string, number, number][] = [
    ["put k 12.0 1", 12, 1],
    ["put k -0.5 -1", -0.5, -1],
    ["put k .5 0", 0.5, 0],
    ["put k 1e-7 2", 1e-7, 2],
    ["put k +3 +4", 3, 4],
  ];
  for (const [line, value, timestamp] of cases) {
    assertEquals(parseRequest(line), {
      kind: "put",
      key: "k",
      value,
      timestamp,
    });
  }
});

Deno.test("parseRequest keeps a non-ASCII key", () => {
  assertEquals(parseRequest("put темп.cpu 1 2"), {
    kind: "put",
    key: "темп.cpu",
    value: 1,
    timestamp: 2,
  });
});

Deno.test("the response constants are the protocol's bytes", () => {
  assertEquals(decoder.decode(OK_RESPONSE), "ok\n\n");
  assertEquals(decoder.decode(ERROR_RESPONSE), "error\nwrong command\n\n");
});

Deno.test("a \\r inside a line is no field separator; only a trailing one is ignored", () => {
  assertEquals(parseRequest("put k\r1 2"), { kind: "invalid" });
  assertEquals(parseRequest("get\rk"), { kind: "invalid" });
  assertEquals(parseRequest("put k 1 2\r\r"), { kind: "invalid" });
  assertEquals(parseRequest("get k\r"), { kind: "get", key: "k" });
});

Deno.test("errorResponse says why in one line", () => {
  assertEquals(
    decoder.decode(errorResponse("storage full")),
    "error\nstorage full\n\n",
  );
  assertEquals(
    decoder.decode(errorResponse("too many keys\nmore detail")),
    "error\ntoo many keys\n\n",
  );
});

Deno.test("parseCanonicalPut takes the common put and agrees with the general path", () => {
  for (
    const line of [
      "put palm.cpu 0.5 1150864247",
      "put k 12 0",
      "put k -1.25 -5",
      "put k +2. +3",
      "put k .5 1",
      "put k -0 -0",
      "put k 1 999999999999999",
      "put ключ 1 2",
    ]
  ) {
    const fast = parseCanonicalPut(line);
    assertEquals(fast, parseRequestFields(line), line);
    assertEquals(parseRequest(line), fast, line);
  }
});

Deno.test("parseCanonicalPut leaves every other line to the general path", () => {
  for (
    const line of [
      "put k 1e-7 1",
      "put k 1 1e3",
      "put k 1 1.5",
      "put k 1 9999999999999999",
      "put k 0,5 1",
      "put k . 1",
      "put k - 1",
      "put k 1.2.3 1",
      "put k 1 -",
      "put k 1 ",
      "put k 1 2 3",
      "put * 1 2",
      "put  k 1 2",
      "put k  1 2",
      "put k 1  2",
      "put k\t1 2",
      "put k 1",
      "put k",
      "put ",
      "get k",
      "Put k 1 2",
      "put k nan 1",
      `put k ${"9".repeat(400)} 1`,
    ]
  ) {
    assertEquals(parseCanonicalPut(line), undefined, line);
    assertEquals(parseRequest(line), parseRequestFields(line), line);
  }
});

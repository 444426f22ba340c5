/**
 * One table of protocol exchanges (requests → exact responses), run
 * against every storage backend (memory, the log, a front-end on
 * VictoriaMetrics), so all are held to the same answers.
 *
 * The one documented difference: `get *` lists keys in first-seen order
 * on the embedded store and by name on VictoriaMetrics (which does not
 * keep the order keys were first stored in). Steps marked `anyKeyOrder`
 * hold the embedded order; {@link byKeyName} gives the VictoriaMetrics one.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { RawSocket } from "./server.ts";

const OK = "ok\n\n";
const ERROR = "error\nwrong command\n\n";

/** One write on the connection and the responses it must get. */
export interface ProtocolStep {
  /** Bytes to send (text as UTF-8). */
  readonly send: string | Uint8Array;
  /** The responses, each with its closing empty line, in order. */
  readonly expect: readonly string[];
  /** A `get *` with several keys: their order depends on the backend. */
  readonly anyKeyOrder?: boolean;
}

/** A named exchange on one fresh connection to a fresh, empty server. */
export interface ProtocolCase {
  readonly name: string;
  readonly steps: readonly ProtocolStep[];
}

/** `response` with its data lines ordered by key name (stable per key). */
export function byKeyName(response: string): string {
  if (!response.startsWith("ok\n") || response === OK) return response;
  const lines = response.slice(3, -2).split("\n");
  const key = (line: string): string => line.slice(0, line.indexOf(" "));
  lines.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return `ok\n${lines.join("\n")}\n\n`;
}

function pipelined(): ProtocolStep {
  let send = "";
  const expect: string[] = [];
  let data = "ok\n";
  // Timestamps from 1: VictoriaMetrics cannot store second 0 (README).
  for (let i = 0; i < 3000; i++) {
    send += `put p ${i} ${i + 1}\n`;
    expect.push(OK);
    data += `p ${i}.0 ${i + 1}\n`;
    if (i % 1000 === 999) {
      send += "get nope\nbad request\n";
      expect.push(OK, ERROR);
    }
  }
  send += "get p\n";
  expect.push(data + "\n");
  return { send, expect };
}

const encoder = new TextEncoder();

/** The shared table. */
export const PROTOCOL_CASES: readonly ProtocolCase[] = [
  {
    name: "the assignment's telnet session",
    steps: [
      { send: "get test_key\n", expect: [OK] },
      { send: "got test_key\n", expect: [ERROR] },
      { send: "put test_key 12.0 1503319740\n", expect: [OK] },
      { send: "put test_key 13.0 1503319739\n", expect: [OK] },
      {
        send: "get test_key\n",
        expect: ["ok\ntest_key 13.0 1503319739\ntest_key 12.0 1503319740\n\n"],
      },
      { send: "put another_key 10 1503319739\n", expect: [OK] },
      {
        send: "get *\n",
        expect: [
          "ok\ntest_key 13.0 1503319739\ntest_key 12.0 1503319740\nanother_key 10.0 1503319739\n\n",
        ],
        anyKeyOrder: true,
      },
    ],
  },
  {
    name: "get of an unknown key and get * of an empty server",
    steps: [{ send: "get nothing.here\nget *\n", expect: [OK, OK] }],
  },
  {
    name: "last write wins per key and second (docs/protocol.md's example)",
    steps: [{
      send:
        "put palm.cpu 0.5 1150864247\nput palm.cpu 2.0 1150864248\nput palm.cpu 0.5 1150864248\nget palm.cpu\n",
      expect: [
        OK,
        OK,
        OK,
        "ok\npalm.cpu 0.5 1150864247\npalm.cpu 0.5 1150864248\n\n",
      ],
    }],
  },
  {
    name: "a rewrite in a later packet replaces the value",
    steps: [
      { send: "put k 1 1150864247\n", expect: [OK] },
      { send: "put k 2 1150864247\n", expect: [OK] },
      { send: "get k\n", expect: ["ok\nk 2.0 1150864247\n\n"] },
    ],
  },
  {
    name: "get * gives every key, each sorted by timestamp",
    steps: [{
      send:
        "put b 1 30\nput a 1 20\nput b 2 10\nput c 3 5\nput a 4 10\nget *\n",
      expect: [
        ...Array<string>(5).fill(OK),
        "ok\nb 2.0 10\nb 1.0 30\na 4.0 10\na 1.0 20\nc 3.0 5\n\n",
      ],
      anyKeyOrder: true,
    }],
  },
  {
    name: "values print as 12.0, 2.156, 0.5, 100.0, 4200000.0, -5.5",
    steps: [{
      send:
        "put v 12 1\nput v 2.156 2\nput v .5 3\nput v 1e2 4\nput v 4200000 5\nput v -5.5 6\nget v\n",
      expect: [
        ...Array<string>(6).fill(OK),
        "ok\nv 12.0 1\nv 2.156 2\nv 0.5 3\nv 100.0 4\nv 4200000.0 5\nv -5.5 6\n\n",
      ],
    }],
  },
  {
    name: "requests typed by humans: spaces, tabs, \\r\\n",
    steps: [{
      send: "  put k   1.5  7 \r\n\tget   k\r\n",
      expect: [OK, "ok\nk 1.5 7\n\n"],
    }],
  },
  {
    name: "blank lines get no answer",
    steps: [
      { send: "get x\n\n\r\n   \nget y\n\nput z 1 1\n", expect: [OK, OK, OK] },
      { send: "get z\n", expect: ["ok\nz 1.0 1\n\n"] },
    ],
  },
  {
    name: "malformed requests get the error and the connection keeps working",
    steps: [
      "got test_key",
      "GET test_key",
      "get",
      "get a b",
      "put k 1",
      "put k 1 2 3",
      "put k 0,5 1",
      "put k abc 1",
      "put k nan 1",
      "put k 1 1.5",
      "put * 1 1",
      "hello",
    ].map((request) => ({ send: `${request}\nget k\n`, expect: [ERROR, OK] })),
  },
  {
    name: "bytes that are not UTF-8 get the error",
    steps: [{
      send: new Uint8Array([
        ...encoder.encode("put k"),
        0xc3,
        0x28,
        ...encoder.encode(" 1 1\nput k 1 1\nget k\n"),
      ]),
      expect: [ERROR, OK, "ok\nk 1.0 1\n\n"],
    }],
  },
  {
    name: "keys with quotes, backslashes, braces and non-ASCII",
    steps: [{
      send:
        'put a"b\\c 1 1\nput {x="y"} 2 2\nput €.cpu 3 3\nget a"b\\c\nget {x="y"}\nget €.cpu\n',
      expect: [
        OK,
        OK,
        OK,
        'ok\na"b\\c 1.0 1\n\n',
        'ok\n{x="y"} 2.0 2\n\n',
        "ok\n€.cpu 3.0 3\n\n",
      ],
    }],
  },
  {
    name: "a key named like a regex matches only itself",
    steps: [{
      send: "put a.b 1 1\nput axb 2 1\nget a.b\n",
      expect: [OK, OK, "ok\na.b 1.0 1\n\n"],
    }],
  },
  {
    name: "a get after a put in the same packet sees the put",
    steps: [{
      send: "put k 1 1\nget k\nput k 2 1\nget k\n",
      expect: [OK, "ok\nk 1.0 1\n\n", OK, "ok\nk 2.0 1\n\n"],
    }],
  },
  { name: "3000 pipelined puts with gets and errors", steps: [pipelined()] },
];

/** Runs one case on a fresh connection to `port`. */
export async function play(
  port: number,
  protocolCase: ProtocolCase,
  order: "first-seen" | "by-name",
): Promise<void> {
  await using socket = await RawSocket.connect(port);
  for (const step of protocolCase.steps) {
    await socket.send(step.send);
    const expected = step.anyKeyOrder && order === "by-name"
      ? step.expect.map(byKeyName)
      : step.expect;
    assertEquals(await socket.responses(expected.length), expected);
  }
}

/** Every `get` request of a case, as one write, and how many there are. */
export function getsOf(
  protocolCase: ProtocolCase,
): { requests: string; count: number } {
  const gets = protocolCase.steps.flatMap((step) => {
    const text = typeof step.send === "string"
      ? step.send
      : new TextDecoder().decode(step.send);
    return text.split("\n").map((line) => line.trim()).filter((line) =>
      /^get\s+\S+$/.test(line)
    );
  });
  return {
    requests: gets.map((line) => `${line}\n`).join(""),
    count: gets.length,
  };
}

import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { ResponseParser } from "../../src/client/response_parser.ts";
import { assertKind } from "../helpers/client_error.ts";
import { assertSameLines } from "../helpers/same_lines.ts";
import { Rng } from "../reliability/rng.ts";

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

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

Deno.test("parser splits merged responses", () => {
  assertEquals(frames(["ok\n\nok\na 1 2\n\nerror\nwrong command\n\n"]), [
    ["ok", ""],
    ["ok", "a 1 2\n"],
    ["error", "wrong command\n"],
  ]);
});

Deno.test("parser reads status lines and closing lines ended by \\r\\n, at every split point", () => {
  const stream = "ok\r\n\r\nok\r\npalm.cpu 0.5 1\r\npalm.cpu 2.0 2\r\n\r\n" +
    "error\r\nwrong command\r\n\r\nok\n\n";
  const expected: [string, string][] = [
    ["ok", ""],
    ["ok", "palm.cpu 0.5 1\r\npalm.cpu 2.0 2\r\n"],
    ["error", "wrong command\r\n"],
    ["ok", ""],
  ];
  for (let i = 0; i <= stream.length; i++) {
    assertEquals(
      frames([stream.slice(0, i), stream.slice(i)]),
      expected,
      `split at ${i}`,
    );
  }
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

Deno.test("parser refuses a first line other than ok or error as soon as it shows", async (t) => {
  const cases: [string, string][] = [
    ["HTTP server", "HTTP/1.1 400 Bad Request\r\n"],
    ["Redis-like server", "-ERR unknown command 'put'\r\n"],
    ["one wrong byte", "x"],
    ["okay", "okay\n\n"],
    ["error with more", "errors\n\n"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => {
      const parser = new ResponseParser(1 << 20);
      parser.push(bytes(text));
      const error = assertKind(() => parser.next(), "malformed_response");
      assert(error.message.includes("not a metrics server?"), error.message);
      assert(
        error.message.includes(JSON.stringify(text.slice(0, 40)).slice(1, -1)),
        error.message,
      );
    });
  }
});

Deno.test("parser waits while the first bytes can still become ok or error", () => {
  for (const text of ["o", "ok", "e", "err", "error", "error\nwrong"]) {
    const parser = new ResponseParser(1024);
    parser.push(bytes(text));
    assertEquals(parser.next(), undefined, text);
  }
});

Deno.test("takeOks takes a run of ok answers up to a limit, and nothing else", () => {
  const parser = new ResponseParser(1024);
  parser.push(bytes("ok\n\nok\n\nok\n\nerror\nwrong command\n\nok\n"));
  assertEquals(parser.takeOks(2), 2);
  assertEquals(parser.takeOks(5), 1);
  assertEquals(parser.takeOks(5), 0);
  assertEquals(parser.next()?.status, "error");
  assertEquals(parser.takeOks(5), 0); // `ok\n` is not complete yet
  parser.push(bytes("\n"));
  assertEquals(parser.takeOks(5), 1);
  assertEquals(parser.buffered, 0);
});

Deno.test("parser gives back every answer of 6 MiB pushed in odd pieces, across its compactions and growths", () => {
  // Answers from `ok\n\n` to 600 KB gets (past the 64 KiB buffer, so it
  // grows), pushed in pieces of 1 byte to 70 KB, a third of them cut
  // before a `\n`, a third between the two that end an answer: the buffer
  // compacts at many fills, also with a lone `\n` at its end. Answers are taken by takeOks and next, as the client does.
  // The oracle is the list of answers.
  const rng = new Rng(27);
  const answers: [string, string][] = [];
  let total = 0;
  while (total < 6 * 1024 * 1024) {
    const kind = rng.int(0, 3);
    let answer: [string, string];
    if (kind < 2) {
      answer = ["ok", ""];
    } else if (kind === 2) {
      answer = ["error", `wrong command ${answers.length}\n`];
    } else {
      // Big answers only in the last third: until then the buffer stays at
      // 64 KiB and compacts often.
      const big = total > 4 * 1024 * 1024 && rng.chance(0.01);
      const count = big ? rng.int(3000, 20_000) : rng.logInt(40);
      const key = `k${answers.length}.${rng.pick(["a", "é", "€"]).repeat(3)}`;
      const body = Array.from(
        { length: count },
        (_, i) => `${key} ${i / 4} ${1_700_000_000 + i}\n`,
      );
      answer = ["ok", body.join("")];
    }
    answers.push(answer);
    total += bytes(`${answer[0]}\n${answer[1]}\n`).length;
  }
  const stream = bytes(answers.map(([s, body]) => `${s}\n${body}\n`).join(""));
  const parser = new ResponseParser(1 << 20);
  const decoder = new TextDecoder();
  const got: string[] = [];
  let pushes = 0;
  for (let at = 0; at < stream.length; pushes++) {
    let size = 1 + rng.logInt(70_000);
    const cut = rng.int(0, 2);
    // Cut just before a `\n`, or between the two that end an answer.
    if (cut === 1) size = stream.indexOf(0x0a, at + size) - at;
    if (cut === 2) size = indexOfPair(stream, at + size) + 1 - at;
    size = Math.max(1, Math.min(size, stream.length - at));
    // A copy: the parser must not keep a view of the caller's chunk.
    parser.push(stream.slice(at, at + size));
    at += size;
    for (;;) {
      const oks = parser.takeOks(rng.int(0, 3));
      for (let i = 0; i < oks; i++) got.push("ok ");
      const frame = parser.next();
      if (frame === undefined) break;
      got.push(`${frame.status} ${decoder.decode(frame.body)}`);
    }
  }
  assertEquals(parser.buffered, 0);
  assertSameLines(
    got,
    answers.map(([s, body]) => `${s} ${body}`),
    `${pushes} pushes`,
  );
});

/** Where the next `\n\n` from `from` on starts, or -1. */
function indexOfPair(bytes: Uint8Array, from: number): number {
  for (
    let i = bytes.indexOf(0x0a, from);
    i !== -1;
    i = bytes.indexOf(0x0a, i + 1)
  ) {
    if (bytes[i + 1] === 0x0a) return i;
  }
  return -1;
}

Deno.test("parser ends a response at a closing \\r\\n after lines ended by \\n", () => {
  assertEquals(frames(["ok\na 1 2\n\r\nerror\nno\n\r\n"]), [
    ["ok", "a 1 2\n"],
    ["error", "no\n"],
  ]);
});

Deno.test("takeOks takes nothing when maxResponseBytes is below the 4 bytes of ok", () => {
  const parser = new ResponseParser(3);
  parser.push(bytes("ok\n\nok\n\n"));
  assertEquals(parser.takeOks(10), 0);
  assertEquals(parser.buffered, 8);
  assertKind(() => parser.next(), "malformed_response");
});

Deno.test("reset() drops a partial response, and the next bytes parse on their own", () => {
  const parser = new ResponseParser(1024);
  parser.push(bytes("ok\npalm.cpu 1"));
  assertEquals(parser.next(), undefined);
  parser.reset();
  assertEquals(parser.buffered, 0);
  parser.push(bytes("error\nwrong command\n\n"));
  const frame = parser.next();
  assertEquals(
    [frame?.status, new TextDecoder().decode(frame?.body)],
    ["error", "wrong command\n"],
  );
  assertEquals(parser.buffered, 0);
});

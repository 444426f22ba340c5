import { assert, assertEquals } from "@std/assert";
import { LineReader, newlineAt } from "../../src/server/line_reader.ts";
import { assertSameLines } from "../helpers/same_lines.ts";
import { Rng } from "../reliability/rng.ts";

const encoder = new TextEncoder();
const NL = 0x0a;

/** Pushes `chunks` one read at a time; returns every take's result. */
function feed(reader: LineReader, chunks: (string | Uint8Array)[]) {
  return chunks.map((chunk) => {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    reader.space().set(bytes);
    reader.filled(bytes.length);
    return reader.take();
  });
}

Deno.test("LineReader joins a line split across reads", () => {
  const results = feed(new LineReader(100), ["pu", "t k 1", " 2\nge", "t k\n"]);
  assertEquals(results.map((r) => r.lines), [[], [], ["put k 1 2"], ["get k"]]);
});

Deno.test("LineReader splits lines merged in one read", () => {
  const [result] = feed(new LineReader(100), ["get a\n\nget b\nget c\nge"]);
  assertEquals(result, {
    lines: ["get a", "", "get b", "get c"],
    tooLong: false,
  });
});

Deno.test("LineReader gives null for a line that is not UTF-8, text for the rest", () => {
  const bytes = new Uint8Array([
    ...encoder.encode("get a\nget "),
    0xff,
    0xfe,
    ...encoder.encode("\nget b\n"),
  ]);
  const [result] = feed(new LineReader(100), [bytes]);
  assertEquals(result.lines, ["get a", null, "get b"]);
});

Deno.test("LineReader decodes non-ASCII lines, also split inside a character", () => {
  const bytes = encoder.encode("get é.cpu\nget ж\n");
  const results = feed(new LineReader(100), [
    bytes.subarray(0, 5),
    bytes.subarray(5),
  ]);
  assertEquals(results.map((r) => r.lines), [[], ["get é.cpu", "get ж"]]);
});

Deno.test("LineReader accepts a line of exactly maxLineBytes", () => {
  const line = "x".repeat(10);
  const [result] = feed(new LineReader(10), [`${line}\n`]);
  assertEquals(result, { lines: [line], tooLong: false });
});

Deno.test("LineReader flags a complete line over maxLineBytes after the good ones", () => {
  const [result] = feed(new LineReader(10), ["get a\nget 12345678\nget b\n"]);
  assertEquals(result, { lines: ["get a"], tooLong: true });
});

Deno.test("LineReader flags an unfinished line once it passes maxLineBytes", () => {
  const results = feed(new LineReader(10), ["get 1234", "5678"]);
  assertEquals(results.map((r) => r.tooLong), [false, true]);
});

Deno.test("LineReader keeps its buffer bounded while a long line grows", () => {
  const reader = new LineReader(1_000_000);
  const piece = "a".repeat(1000);
  let largest = 0;
  for (let i = 0; i < 900; i++) {
    feed(reader, [piece]);
    largest = Math.max(
      largest,
      reader.space().byteOffset + reader.space().length,
    );
  }
  assertEquals(feed(reader, ["\n"])[0].lines[0]?.length, 900_000);
  assertEquals(largest <= 1_000_000 + 128 * 1024, true, `buffer ${largest}`);
});

Deno.test("LineReader keeps a partial line across many reads", () => {
  const reader = new LineReader(100);
  const results = feed(reader, [..."put k 1 2\n"]);
  assertEquals(results.flatMap((r) => r.lines), ["put k 1 2"]);
});

Deno.test("LineReader gives back every line of 6 MiB read in odd pieces, across its compactions and growths", () => {
  // Lines from empty to 600 KB (past the 64 KiB read size, so the buffer
  // grows), non-ASCII ones too. Reads of 1 byte to 70 KB, half of them
  // filling the space offered to within 16 KB of its end, so the buffer
  // compacts at many fills; half cut just before a `\n`, so the next read
  // starts with one. The oracle is the lines.
  const rng = new Rng(19);
  const lines: string[] = [];
  let total = 0;
  while (total < 6 * 1024 * 1024) {
    const length = rng.chance(0.0003)
      ? rng.int(60_000, 200_000)
      : rng.logInt(300);
    const char = rng.pick(["a", "é", "z", "€", "0"]);
    const line = `${lines.length} ${char.repeat(length)}`;
    lines.push(line);
    total += encoder.encode(line).length + 1;
  }
  const stream = encoder.encode(lines.join("\n") + "\n");
  const reader = new LineReader(1_000_000);
  const got: (string | null)[] = [];
  let reads = 0;
  for (let at = 0; at < stream.length; reads++) {
    const space = reader.space();
    assert(space.length > 0, `no space to read into after ${reads} reads`);
    let size = rng.chance(0.5)
      ? space.length - rng.logInt(16_000)
      : 1 + rng.logInt(70_000);
    if (rng.chance(0.5)) size = stream.indexOf(NL, at + size) - at;
    size = Math.max(1, Math.min(size, space.length, stream.length - at));
    space.set(stream.subarray(at, at + size));
    reader.filled(size);
    at += size;
    const { lines: taken, tooLong } = reader.take();
    assertEquals(tooLong, false);
    for (const line of taken) got.push(line);
  }
  assertSameLines(got.map(String), lines, `${reads} reads`);
});

Deno.test("newlineAt finds the first newline from every offset to every end, wherever words begin", () => {
  // Newlines at every position of a word, next to bytes whose XOR with
  // `\n` borrows (0x0b, 0x09, 0x8a, 0x00) in the has-zero-byte test.
  const bytes = new Uint8Array(40);
  const pattern = [0x0b, 0x0a, 0x09, 0x8a, 0x00, 0x0a, 0x0a, 0x41, 0x0b, 0x0b];
  for (let i = 0; i < 32; i++) bytes[i] = pattern[i % pattern.length];
  for (let i = 32; i < 40; i++) bytes[i] = 0x0b;
  bytes[38] = NL;
  const words = new Uint32Array(bytes.buffer, 0, bytes.length >>> 2);
  let checked = 0;
  for (let from = 0; from <= bytes.length; from++) {
    for (let end = from; end <= bytes.length; end++) {
      const found = bytes.subarray(0, end).indexOf(NL, from);
      assertEquals(newlineAt(bytes, words, from, end), found, `${from}-${end}`);
      checked++;
    }
  }
  assertEquals(checked, 861);
});

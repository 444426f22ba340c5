import { assertEquals } from "@std/assert";
import { LineReader } from "../../src/server/line_reader.ts";

const encoder = new TextEncoder();

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

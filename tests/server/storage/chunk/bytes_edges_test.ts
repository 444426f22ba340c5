/**
 * Byte-level edges of the chunk format: a varint takes one byte up to 127
 * and two from 128 (the shortest form, as the format's golden bytes
 * assume), and a decoding failure is an error named `ChunkError`, which
 * is how it reads in a log; `rest()` leaves a reader at the end.
 */

import { assertEquals, assertThrows } from "@std/assert";
import {
  ByteReader,
  ByteWriter,
  ChunkError,
} from "../../../../src/server/storage/chunk/bytes.ts";
import { decodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";

Deno.test("a varint is one byte up to 127 and two from 128 to 16383", () => {
  for (
    const [value, bytes] of [
      [0, [0x00]],
      [126, [0x7e]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [16_383, [0xff, 0x7f]],
      [16_384, [0x80, 0x80, 0x01]],
    ] as const
  ) {
    const out = new ByteWriter();
    out.varint(value);
    assertEquals([...out.bytes()], [...bytes], `${value}`);
    assertEquals(new ByteReader(out.bytes()).varint(), value);
  }
});

Deno.test("bytes that are no chunk fail with an error named ChunkError", () => {
  const error = assertThrows(
    () => decodeChunk(new Uint8Array([1, 2, 3])),
    ChunkError,
  );
  assertEquals(error.name, "ChunkError");
  assertEquals(String(error).startsWith("ChunkError: "), true);
});

Deno.test("rest() gives the bytes not read yet and leaves the reader at the end", () => {
  const reader = new ByteReader(new Uint8Array([1, 2, 3, 4, 5]));
  reader.byte();
  assertEquals([...reader.rest()], [2, 3, 4, 5]);
  assertEquals(reader.remaining, 0);
  assertThrows(() => reader.byte(), ChunkError);
});

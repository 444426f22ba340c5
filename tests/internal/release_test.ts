import { assertEquals } from "@std/assert";
import { releaseBuffer } from "../../src/internal/release.ts";

Deno.test("releaseBuffer detaches the buffer: every view of it reads as empty", () => {
  const bytes = new Uint8Array(1024 * 1024).fill(7);
  const view = bytes.subarray(10, 20);
  releaseBuffer(bytes);
  assertEquals([bytes.length, view.length, bytes.buffer.byteLength], [0, 0, 0]);
});

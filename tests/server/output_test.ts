import { assertEquals } from "@std/assert";
import { OutputBuffer } from "../../src/server/output.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("output: an answer repeated n times is n copies in order, after what was there", () => {
  const ok = encoder.encode("ok\n\n");
  for (const times of [0, 1, 2, 3, 5, 17, 4096, 10_001]) {
    const out = new OutputBuffer();
    // Past the initial capacity, so the repeat grows the buffer midway.
    out.appendText("x".repeat(16 * 1024 - 3));
    out.appendRepeated(ok, times);
    out.append(encoder.encode("end"));
    assertEquals(
      decoder.decode(out.take()),
      "x".repeat(16 * 1024 - 3) + "ok\n\n".repeat(times) + "end",
      `${times} times`,
    );
  }
});

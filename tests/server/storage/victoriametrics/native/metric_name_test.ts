import { assertEquals, assertThrows } from "@std/assert";
import { metricGroup } from "../../../../../src/server/storage/victoriametrics/native/metric_name.ts";
import { NativeFormatError } from "../../../../../src/server/storage/victoriametrics/native/varint.ts";

const encoder = new TextEncoder();
const bytes = (...parts: (string | number)[]) =>
  Uint8Array.from(
    parts.flatMap((part) =>
      typeof part === "number" ? [part] : [...encoder.encode(part)]
    ),
  );

Deno.test("metric name: the name up to byte 1, UTF-8", () => {
  const name = bytes("palm.cpu.€", 1);
  assertEquals(metricGroup(name, 0, name.length), "palm.cpu.€");
});

Deno.test("metric name: bytes 0, 1 and 2 come escaped as 0 then a digit", () => {
  // As VictoriaMetrics 1.79.5 exported the key "a\u0001b".
  const name = Uint8Array.of(0x61, 0x00, 0x31, 0x62, 0x01);
  assertEquals(metricGroup(name, 0, name.length), "a\u0001b");
  const all = bytes(0, "0", 0, "1", 0, "2", "x", 1);
  assertEquals(metricGroup(all, 0, all.length), "\u0000\u0001\u0002x");
});

Deno.test("metric name: labels after the name are left out", () => {
  const name = bytes("k", 1, "job", 1, "a", 1);
  assertEquals(metricGroup(name, 0, name.length), "k");
});

Deno.test("metric name: no end, or an unknown escape, is an error", () => {
  const open = bytes("k");
  assertThrows(() => metricGroup(open, 0, open.length), NativeFormatError);
  const bad = bytes("k", 0, "9", 1);
  assertThrows(() => metricGroup(bad, 0, bad.length), NativeFormatError);
});

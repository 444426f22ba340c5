import { assertEquals, assertThrows } from "@std/assert";
import fc from "../../../helpers/fast_check.ts";
import {
  MsReader,
  scanExportLine,
  type ScannedLine,
  scannedSeries,
  writeSecondOfMs,
  writeValueText,
} from "../../../../src/server/storage/victoriametrics/export_scan.ts";
import { pythonFloat } from "../../../../src/protocol/number_text.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A line as VictoriaMetrics exports it, values as `tokens` say. */
function exportLine(key: string, tokens: string[], ms: number[]): Uint8Array {
  return encoder.encode(
    `{"metric":{"__name__":${JSON.stringify(key)}},"values":[${
      tokens.join(",")
    }],"timestamps":[${ms.join(",")}]}`,
  );
}

/**
 * `value` as VictoriaMetrics writes it (Go's `'f'` format, shortest
 * digits): fixed notation, never an exponent.
 */
function fixedShortest(value: number): string {
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) {
    return sign + digits.padEnd(exponent + 1, "0");
  }
  return `${sign}${digits.slice(0, exponent + 1)}.${
    digits.slice(exponent + 1)
  }`;
}

/** `bytes` scanned; fails the test when it is not of the usual shape. */
function scanned(bytes: Uint8Array): ScannedLine {
  const line = scanExportLine(bytes);
  if (line === undefined) {
    throw new Error(`not scanned: ${decoder.decode(bytes)}`);
  }
  return line;
}

/** What writeValueText writes for each value of `line`. */
function valueTexts(line: ScannedLine): string[] {
  const buf = new Uint8Array(64);
  return Array.from(line.ms, (_, i) => {
    const end = writeValueText(
      buf,
      3,
      line.bytes,
      line.valueStarts[i],
      line.valueEnds[i],
    );
    return decoder.decode(buf.subarray(3, end));
  });
}

Deno.test("an export line scans into its key, milliseconds and values", () => {
  const line = scanned(
    exportLine("cpu €", ["0.5", "12", "-3.25"], [1000, 2001, 3999]),
  );
  assertEquals(line.key, "cpu €");
  assertEquals(Array.from(line.ms), [1000, 2001, 3999]);
  assertEquals(line.ascending, true);
  assertEquals(valueTexts(line), ["0.5", "12.0", "-3.25"]);
  assertEquals(scannedSeries(line), {
    key: "cpu €",
    ms: [1000, 2001, 3999],
    values: [0.5, 12, -3.25],
  });
});

Deno.test("a key with escapes reads as JSON reads it", () => {
  const key = 'a"b\\c\u0001d';
  assertEquals(scanExportLine(exportLine(key, ["1"], [5]))?.key, key);
});

Deno.test("milliseconds out of order are flagged", () => {
  const line = scanned(exportLine("k", ["1", "2"], [2000, 1000]));
  assertEquals(line.ascending, false);
  assertEquals(
    scanExportLine(exportLine("k", ["1", "2"], [1000, 1000]))?.ascending,
    false,
  );
});

Deno.test("lines of another shape are not scanned", () => {
  for (
    const text of [
      '{"metric":{"__name__":"k","job":"x"},"values":[1],"timestamps":[1000]}',
      '{"metric":{"__name__":"k"},"values":[1,2],"timestamps":[1000]}',
      '{"metric":{"__name__":"k"},"values":[1],"timestamps":[1000,2000]}',
      '{"metric":{"__name__":"k"},"values":[1],"timestamps":[1000.5]}',
      '{"metric":{"__name__":"k"},"values":[1],"timestamps":[1000]} ',
      '{"metric":{"__name__":"k"},"values":[1],"timestamps":[10000000000000000]}',
      '{"values":[1],"timestamps":[1000],"metric":{"__name__":"k"}}',
      '{"metric":{"__name__":"k',
      "",
    ]
  ) {
    assertEquals(scanExportLine(encoder.encode(text)), undefined, text);
  }
});

Deno.test("values are written as Python spells them, copied where VictoriaMetrics' text is that", () => {
  const cases: [string, string][] = [
    ["0", "0.0"],
    ["-0", "-0.0"],
    ["12", "12.0"],
    ["-7", "-7.0"],
    ["0.5", "0.5"],
    ["-2.156", "-2.156"],
    ["0.0001", "0.0001"],
    ["0.00001", "1e-05"],
    ["-0.0000001", "-1e-07"],
    ["9999999999999998", "9999999999999998.0"],
    ["10000000000000000", "1e+16"],
    ["1000000000000000000000", "1e+21"],
    ["1234567.5", "1234567.5"],
    ["0.30000000000000004", "0.30000000000000004"],
    // Other writers' spellings are read as numbers.
    ["1e-7", "1e-07"],
    ["2.50", "2.5"],
    ["007", "7.0"],
    ["0.10000000000000001", "0.1"],
    ["123456789012345", "123456789012345.0"],
    ["1234567890123456", "1234567890123456.0"],
    ["1E3", "1000.0"],
  ];
  const line = scanned(
    exportLine("k", cases.map(([token]) => token), cases.map((_, i) => i + 1)),
  );
  assertEquals(valueTexts(line), cases.map(([, text]) => text));
});

Deno.test("any double VictoriaMetrics writes reads back as pythonFloat spells it", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.tuple(fc.integer(), fc.integer({ min: 0, max: 7 })).map((
            [n, k],
          ) => n / 10 ** k),
        ),
        { minLength: 1, maxLength: 20 },
      ),
      (values) => {
        const line = scanned(
          exportLine(
            "k",
            values.map(fixedShortest),
            values.map((_, i) => i + 1),
          ),
        );
        // -0 is exported as "-0" here; VictoriaMetrics itself writes "0".
        assertEquals(valueTexts(line), values.map(pythonFloat));
      },
    ),
    { numRuns: 2_000 },
  );
});

Deno.test("a value that is no number fails when it is written or read", () => {
  for (const token of ["1-2", "null", "NaN", "Infinity"]) {
    const line = scanned(exportLine("k", [token], [1000]));
    assertThrows(() => valueTexts(line), Error, "not a number");
    assertThrows(() => scannedSeries(line), Error, "not a number");
  }
});

Deno.test("a millisecond's second is written from its digits, carries included", () => {
  const buf = new Uint8Array(32);
  const cases = [
    0,
    1,
    999,
    1000,
    1001,
    9999,
    1799999999001,
    1799999999000,
    1150864246001,
    1999999999999,
    9999999999999,
    ...Array.from({ length: 2000 }, () => Math.floor(Math.random() * 2e12)),
  ];
  for (const ms of cases) {
    const bytes = encoder.encode(`${ms}]`);
    const reader = new MsReader(bytes, 0);
    assertEquals(reader.next(), ms);
    const end = writeSecondOfMs(
      buf,
      1,
      bytes,
      reader.start,
      reader.end,
      Math.ceil(ms / 1000),
    );
    assertEquals(
      decoder.decode(buf.subarray(1, end)),
      `${Math.ceil(ms / 1000)}`,
    );
  }
});

Deno.test("timestamps are read one by one; anything but digits up to a comma or bracket is none", () => {
  const reader = new MsReader(encoder.encode("12,1700000000123,5]"), 0);
  assertEquals([reader.next(), reader.next(), reader.next()], [
    12,
    1700000000123,
    5,
  ]);
  for (const text of ["]", "1.5]", "-1]", "1e3]", "1234567890123456]", "12"]) {
    assertEquals(new MsReader(encoder.encode(text), 0).next(), -1, text);
  }
});

import { assertEquals, assertMatch } from "@std/assert";
import { formatMetrics, isoTime } from "../../src/cli/format.ts";
import { chartMetrics, sparkline } from "../../src/cli/chart.ts";
import {
  ImportReader,
  parseImportFields,
  parseImportLine,
  parseImportText,
} from "../../src/cli/import_lines.ts";
import { Rng } from "../reliability/rng.ts";
import { cpuTimes, hostPrefix, parseNetDev } from "../../src/cli/machine.ts";
import type { Metrics } from "../../mod.ts";

const metrics: Metrics = Object.assign(Object.create(null), {
  "palm.cpu": [[1150864247, 0.5], [1150864248, 2]],
  "eardrum.memory": [[1503320872, 4200000]],
});

Deno.test("table format shows key, ISO time, raw seconds and value", () => {
  assertEquals(
    formatMetrics(metrics, "table"),
    [
      "KEY             TIME                  TIMESTAMP     VALUE",
      "palm.cpu        2006-06-21T04:30:47Z  1150864247      0.5",
      "palm.cpu        2006-06-21T04:30:48Z  1150864248        2",
      "eardrum.memory  2017-08-21T13:07:52Z  1503320872  4200000",
      "",
    ].join("\n"),
  );
  assertEquals(formatMetrics(Object.create(null), "table"), "(no points)\n");
});

Deno.test("csv format has a header and one row per point", () => {
  assertEquals(
    formatMetrics(metrics, "csv"),
    "key,time,timestamp,value\n" +
      "palm.cpu,2006-06-21T04:30:47Z,1150864247,0.5\n" +
      "palm.cpu,2006-06-21T04:30:48Z,1150864248,2\n" +
      "eardrum.memory,2017-08-21T13:07:52Z,1503320872,4200000\n",
  );
});

Deno.test("json format is the get result, one line per series", () => {
  const text = formatMetrics(metrics, "json");
  assertEquals(JSON.parse(text), { ...metrics });
  assertEquals(
    text,
    '{\n  "palm.cpu": [[1150864247,0.5],[1150864248,2]],\n  "eardrum.memory": [[1503320872,4200000]]\n}\n',
  );
  assertEquals(formatMetrics(Object.create(null), "json"), "{}\n");
});

Deno.test("isoTime of a timestamp beyond Date's range is a dash", () => {
  assertEquals(isoTime(0), "1970-01-01T00:00:00Z");
  assertEquals(isoTime(2 ** 52), "-");
});

Deno.test("sparkline scales from lowest to highest bar", () => {
  assertEquals(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
  assertEquals(sparkline([5, 5, 5]), "▄▄▄");
  assertEquals(
    sparkline(Array.from({ length: 1000 }, (_, i) => i), 10).length,
    10,
  );
});

Deno.test("chart draws one line per key with min, max and last", () => {
  const text = chartMetrics(metrics);
  const lines = text.trimEnd().split("\n");
  assertEquals(lines.length, 2);
  assertMatch(lines[1], /\(1 point\)$/);
  assertMatch(
    lines[0],
    /^palm\.cpu +▁█ +min 0\.5 +max 2 +last 2 +\(2 points\)$/,
  );
});

Deno.test("import lines: key value [timestamp]", () => {
  assertEquals(parseImportLine("palm.cpu 0.5 1150864247", 9), {
    key: "palm.cpu",
    value: 0.5,
    timestamp: 1150864247,
  });
  assertEquals(parseImportLine("  palm.cpu\t2  ", 9), {
    key: "palm.cpu",
    value: 2,
    timestamp: 9,
  });
  assertEquals(parseImportLine("   ", 9), null);
  for (
    const bad of [
      "palm.cpu",
      "a 1 2 3",
      "* 1 2",
      "k 0,5 1",
      "k abc",
      "k 1 1.5",
      "k 1 1e3",
    ]
  ) {
    const result = parseImportLine(bad, 9);
    assertEquals(typeof (result as { error: string }).error, "string", bad);
  }
});

Deno.test("CPU times sum over cores; net bytes exclude loopback", () => {
  assertEquals(
    cpuTimes([
      { times: { user: 100, nice: 0, sys: 50, idle: 800, irq: 50 } },
      { times: { user: 10, nice: 0, sys: 0, idle: 90, irq: 0 } },
    ]),
    { busy: 210, total: 1100 },
  );
  const dev = "Inter-| head\n face | head\n" +
    "    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n" +
    "  eth0: 100 1 0 0 0 0 0 0 200 1 0 0 0 0 0 0\n" +
    "  eth1: 10 1 0 0 0 0 0 0 20 1 0 0 0 0 0 0\n";
  assertEquals(parseNetDev(dev), { rx: 110, tx: 220 });
});

Deno.test("host prefix keeps only characters valid in a key", () => {
  assertEquals(hostPrefix("palm"), "palm");
  assertEquals(hostPrefix("my host:1"), "my_host_1");
  assertEquals(hostPrefix(""), "localhost");
});

Deno.test("import lines: # comments are skipped; one field is 'got 1 field', four are 'got 4 fields'", () => {
  assertEquals(parseImportLine("# a comment", 1), null);
  assertEquals(parseImportLine("   #indented", 1), null);
  assertEquals(parseImportLine("palm.cpu", 1), {
    error: 'expected "key value [timestamp]", got 1 field',
  });
  assertEquals(parseImportLine("palm.cpu 1 2 3", 1), {
    error: 'expected "key value [timestamp]", got 4 fields',
  });
});

Deno.test("import lines: a timestamp past 9999-12-31T23:59:59Z is taken for milliseconds, and the seconds are suggested", () => {
  assertEquals(parseImportLine("k 1 253402300799", 9), {
    key: "k",
    value: 1,
    timestamp: 253402300799,
  });
  assertEquals(parseImportLine("k 1 1150864247999", 9), {
    error: "timestamp 1150864247999 is past year 9999: it looks like " +
      "milliseconds; give whole Unix seconds (1150864247)",
  });
});

Deno.test("import lines: each of 200,000 random lines, read in place between two others, parses as its fields split by whitespace do", () => {
  const rng = new Rng(20);
  const pick = <T>(items: readonly T[]): T =>
    items[rng.int(0, items.length - 1)];
  const digits = (n: number): string =>
    Array.from({ length: n }, () => rng.int(0, 9)).join("");
  const decimal = (): string => {
    const text = digits(rng.int(0, 17));
    const dot = rng.int(-1, text.length);
    const number = dot < 0 ? text : `${text.slice(0, dot)}.${text.slice(dot)}`;
    return pick(["", "", "-", "+"]) + number +
      (rng.int(0, 9) === 0 ? `e${pick(["", "-"])}${digits(2)}` : "");
  };
  // Characters next to those the scan tells apart: whitespace and control
  // characters, signs, the dot, digits, the ends of printable ASCII.
  const odd = "0123456789.+-eE,/:!*#~\x08\x0b\x0e\x1f\x7f\u00e9";
  const junk = (): string =>
    Array.from({ length: rng.int(1, 6) }, () => pick([...odd])).join("");
  const fields = [
    () =>
      rng.int(0, 4) === 0 ? junk() : pick([
        "palm.cpu",
        "k",
        "*",
        "#c",
        "123",
        "-5",
        "k\u00e9",
        "a\x1fb",
        "a\x7fb",
        "x.y_z-1",
      ]),
    () => rng.int(0, 4) === 0 ? junk() : decimal(),
    () =>
      rng.int(0, 4) === 0 ? junk() : pick([
        digits(rng.int(0, 16)),
        `-${digits(3)}`,
        `+${digits(10)}`,
        "253402300799",
        "253402300800",
        "1.5",
        "1e3",
      ]),
    () => pick(["extra", "nan", "inf", "1"]),
  ];
  const spaces = [
    " ",
    " ",
    "\t",
    "  ",
    "\r",
    "\v",
    "\f",
    "\u00a0",
    "\x08",
    "\x0e",
    "\x1c",
  ];
  for (let n = 0; n < 200_000; n++) {
    const count = rng.int(0, 4);
    let line = rng.int(0, 3) === 0 ? pick(spaces) : "";
    for (let f = 0; f < count; f++) {
      line += (f > 0 ? pick(spaces) : "") + fields[f]();
    }
    if (rng.int(0, 3) === 0) line += pick(spaces);
    // Read in place between two other lines, as the import reads them.
    const text = `${fields[0]()} 1\n${line}\n-1 x`;
    const got = parseImportText(
      text,
      text.indexOf("\n") + 1,
      text.lastIndexOf("\n"),
      9,
    );
    const want = parseImportFields(line.trim().split(/\s+/), 9);
    const same = got === null || want === null || "error" in got ||
        "error" in want
      ? JSON.stringify(got) === JSON.stringify(want)
      : got.key === want.key && Object.is(got.value, want.value) &&
        Object.is(got.timestamp, want.timestamp);
    if (!same) {
      throw new Error(
        `${JSON.stringify(line)}: ${JSON.stringify(got)}, split gives ${
          JSON.stringify(want)
        }`,
      );
    }
  }
});

Deno.test("import reader: batches of points with their line numbers, counted across pieces of text", () => {
  const bad: [number, string][] = [];
  const reader = new ImportReader(
    2,
    9,
    (line, error) => bad.push([line, error]),
  );
  const batches = [];
  for (const text of ["a 1 1\n\n# c\nb x\n", "c 2\r\nd 3 3"]) {
    for (let from = 0; from < text.length;) {
      from = reader.read(text, from);
      if (reader.full) batches.push(reader.take());
    }
  }
  batches.push(reader.take());
  assertEquals(batches, [
    {
      points: [
        { key: "a", value: 1, timestamp: 1 },
        { key: "c", value: 2, timestamp: 9 },
      ],
      lines: [1, 5],
    },
    { points: [{ key: "d", value: 3, timestamp: 3 }], lines: [6] },
  ]);
  assertEquals(bad, [[4, 'value "x" is not a number']]);
  assertEquals(reader.lineNo, 6);
});

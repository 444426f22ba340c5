import { assertEquals, assertMatch } from "@std/assert";
import { formatMetrics, isoTime } from "../../src/cli/format.ts";
import { chartMetrics, sparkline } from "../../src/cli/chart.ts";
import { parseImportLine } from "../../src/cli/import_lines.ts";
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

Deno.test("import lines: # comments are skipped, and one field is 'got 1 field'", () => {
  assertEquals(parseImportLine("# a comment", 1), null);
  assertEquals(parseImportLine("   #indented", 1), null);
  assertEquals(parseImportLine("palm.cpu", 1), {
    error: 'expected "key value [timestamp]", got 1 field',
  });
});

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  checkFlags,
  exportSelector,
  exportUrl,
  MONTH_MS,
  namesForm,
  parseFlags,
  unstorable,
  victoriaMetricsUrls,
} from "../../../../src/server/storage/victoriametrics/wire.ts";
import { parseDuration } from "../../../../src/internal/duration.ts";

Deno.test("URLs: a single node serves import, export, listing, metrics and force_flush", () => {
  assertEquals(victoriaMetricsUrls(["http://127.0.0.1:8428/"]), {
    kind: "single",
    importUrl: "http://127.0.0.1:8428/api/v1/import",
    exportUrl: "http://127.0.0.1:8428/api/v1/export/native",
    namesUrl: "http://127.0.0.1:8428/api/v1/label/__name__/values",
    metricsUrls: ["http://127.0.0.1:8428/metrics"],
    forceFlushUrl: "http://127.0.0.1:8428/internal/force_flush",
  });
});

Deno.test("URLs: a single node behind a path prefix keeps the prefix", () => {
  assertEquals(
    victoriaMetricsUrls(["https://proxy.example/vm"]).importUrl,
    "https://proxy.example/vm/api/v1/import",
  );
});

Deno.test("URLs: a cluster's vminsert and vmselect, in either order, with tenants", () => {
  const expected = {
    kind: "cluster",
    importUrl: "http://vminsert:8480/insert/0/prometheus/api/v1/import",
    exportUrl: "http://vmselect:8481/select/0/prometheus/api/v1/export/native",
    namesUrl:
      "http://vmselect:8481/select/0/prometheus/api/v1/label/__name__/values",
    metricsUrls: [
      "http://vminsert:8480/metrics",
      "http://vmselect:8481/metrics",
    ],
  };
  assertEquals(
    victoriaMetricsUrls([
      "http://vminsert:8480/insert/0/prometheus",
      "http://vmselect:8481/select/0/prometheus/",
    ]),
    expected,
  );
  assertEquals(
    victoriaMetricsUrls([
      "http://vmselect:8481/select/0/prometheus",
      "http://vminsert:8480/insert/0/prometheus",
    ]),
    expected,
  );
  assertEquals(
    victoriaMetricsUrls([
      "http://lb/vm/insert/7:3/prometheus",
      "http://lb/vm/select/7:3/prometheus",
    ]).metricsUrls,
    ["http://lb/vm/metrics", "http://lb/vm/metrics"],
  );
});

Deno.test("URLs: half a cluster, two single nodes or a non-http URL are refused", () => {
  for (
    const urls of [
      ["http://vminsert:8480/insert/0/prometheus"],
      ["http://a:8428", "http://b:8428"],
      ["ftp://a:8428"],
      ["not a url"],
      [],
    ]
  ) {
    assertThrows(() => victoriaMetricsUrls(urls), RangeError);
  }
});

Deno.test("export selector quotes the key exactly; * matches every series; a label name of its own is added", () => {
  assertEquals(
    exportSelector("palm.cpu", "f_1"),
    '{__name__="palm.cpu",f_1=""}',
  );
  assertEquals(
    exportSelector('a"b\\c', "f_2"),
    '{__name__="a\\"b\\\\c",f_2=""}',
  );
  assertEquals(exportSelector("*", "f_3"), '{__name__=~".+",f_3=""}');
  assertThrows(() => exportSelector("k", 'x="1"} or {y'), RangeError);
  const url = new URL(
    exportUrl("http://h/api/v1/export", "k", 0, 99_000, "f_4"),
  );
  assertEquals(url.searchParams.get("match[]"), '{__name__="k",f_4=""}');
  assertEquals(url.searchParams.get("start"), "0");
  assertEquals(url.searchParams.get("end"), "99");
});

Deno.test("an export of named keys: alternations of up to 100 names, each matching only itself, a label of its own", () => {
  const names = Array.from({ length: 150 }, (_, i) => `k${i}`);
  names[1] = 'a.b*(c)|[d]{2}+?^$\\"é-x/#';
  const form = new URLSearchParams(namesForm(names, 1000, 99_000, "f_5"));
  const selectors = form.getAll("match[]");
  assertEquals(selectors.length, 2);
  selectors.forEach((selector, i) => {
    const quoted = /^\{__name__=~("(?:[^"\\]|\\.)*"),f_5=""\}$/.exec(selector);
    assertEquals(quoted?.length, 2, selector);
    // RE2 reads these escapes as JavaScript does; VictoriaMetrics anchors.
    const regex = new RegExp(`^(?:${JSON.parse(quoted?.[1] ?? "")})$`);
    const chunk = names.slice(i * 100, i * 100 + 100);
    for (const name of chunk) assert(regex.test(name), name);
    for (const other of ["a.b", "aXb*(c)", "k1", "k1000", "k", "|"]) {
      assertEquals(regex.test(other), chunk.includes(other), other);
    }
  });
  assertEquals(form.get("start"), "1");
  assertEquals(form.get("end"), "99");
});

Deno.test("export range bounds are sent as seconds with exact milliseconds", () => {
  const url = new URL(
    exportUrl(
      "http://h/api/v1/export",
      "k",
      1150864246_001,
      1150864247_050,
      "f",
    ),
  );
  assertEquals(url.searchParams.get("start"), "1150864246.001");
  assertEquals(url.searchParams.get("end"), "1150864247.050");
});

Deno.test("flags: parsed from /metrics; dedup must be exactly one second", () => {
  const page = [
    "# HELP ...",
    'flag{name="dedup.minScrapeInterval", value="1s", is_set="true"} 1',
    'flag{name="retentionPeriod", value="100y", is_set="true"} 1',
    'flag{name="maxLabelValueLen", value="16384", is_set="false"} 1',
    'flag{name="search.maxTagValues", value="100000", is_set="false"} 1',
    'vm_rows{type="x"} 5',
  ].join("\n");
  assertEquals(checkFlags("u", parseFlags(page)), {
    retentionMs: 100 * 365 * 86_400_000,
    maxKeyBytes: 16384,
    maxListedNames: 100_000,
  });
  for (const value of ["0s", "2s", "1m0s", "500ms"]) {
    assertThrows(
      () => checkFlags("u", new Map([["dedup.minScrapeInterval", value]])),
      Error,
      "must be 1s",
    );
  }
  assertThrows(() => checkFlags("u", new Map()), Error, "lists no flag");
  assertEquals(
    checkFlags("u", new Map([["dedup.minScrapeInterval", "1000ms"]])),
    {
      retentionMs: undefined,
      maxKeyBytes: undefined,
      maxListedNames: undefined,
    },
  );
});

Deno.test("durations: Go and VictoriaMetrics forms; a bare number is months", () => {
  assertEquals(parseDuration("1s"), 1000);
  assertEquals(parseDuration("1m30s"), 90_000);
  assertEquals(parseDuration("2w"), 14 * 86_400_000);
  assertEquals(parseDuration("12", MONTH_MS), 12 * 31 * 86_400_000);
  assertEquals(parseDuration("1x"), undefined);
  assertEquals(parseDuration("1s junk"), undefined);
});

Deno.test("unstorable: what VictoriaMetrics would drop silently is named", () => {
  const now = Date.UTC(2026, 0, 1);
  const limits = { retentionMs: 365 * 86_400_000, maxKeyBytes: 8 };
  const at = (timestamp: number, key = "k") =>
    unstorable({ key, timestamp, value: 1 }, now, limits);
  assertEquals(at(now / 1000), undefined);
  assertEquals(at(now / 1000 + 86_400), undefined);
  assertEquals(at(-1)?.includes("before 1970"), true);
  assertEquals(at(now / 1000 - 400 * 86_400)?.includes("retention"), true);
  assertEquals(at(now / 1000 + 3 * 86_400)?.includes("two days"), true);
  assertEquals(at(now / 1000, "€€€")?.includes("maxLabelValueLen"), true);
  assertEquals(at(now / 1000, "12345678"), undefined);
  assertEquals(at(0)?.includes("before 1970-01-01T00:00:01Z"), true);
  assertEquals(
    unstorable({ key: "k", timestamp: 1, value: 1 }, now, {}),
    undefined,
  );
});

/**
 * graphite-web 1.1.8 over carbon 1.1.7 as the oracle for `/render` and
 * `/metrics/find`: the same carbon lines go to a real carbon-cache (whisper
 * at a 10 s step) and to our `--graphite` port, then a table of targets,
 * time ranges and `maxDataPoints` is asked of both and the JSON answers
 * compared value by value.
 *
 * By design the data is step-aligned: whisper keeps one value per 10 s
 * slot, we keep exact seconds and lay a key's points on a grid whose step
 * is the smallest gap between them, which is whisper's step when the
 * points are one step apart. Ranges end before `now`: whisper clamps
 * `until` to now, we do not. `nonNegativeDerivative` with a `maxValue` is
 * left out: graphite-web answers 500 when the range holds an empty slot
 * (Python compares `None > maxValue`).
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { serve } from "../../../src/server/mod.ts";
import {
  GRAPHITE_SKIP_REASON,
  RealGraphite,
  waitFor,
} from "../../helpers/graphite.ts";

const STEP = 10;
const SLOTS = 360;

/** The data set: eight keys over an hour, with gaps, resets and a deep key. */
function dataset(base: number): { text: string; points: number } {
  const lines: string[] = [];
  for (let i = 0; i < SLOTS; i++) {
    const t = base + i * STEP;
    lines.push(`srv1.cpu.user ${(i % 17) * 0.25} ${t}`);
    if (i % 13 !== 0) lines.push(`srv1.cpu.system ${(i % 7) + 0.5} ${t}`);
    lines.push(`srv2.cpu.user ${100 - (i % 50)} ${t}`);
    if (i < 180) lines.push(`srv2.cpu.system ${i % 9} ${t}`);
    // A counter that resets at slot 200.
    lines.push(`srv1.net.rx ${i < 200 ? 1000 + i * 40 : (i - 200) * 25} ${t}`);
    lines.push(`srv2.net.rx ${37 * i + (i % 5)} ${t}`);
    lines.push(`srv1.load.shortterm ${(i * 0.01).toFixed(2)} ${t}.0`);
    // Gaps, but some points one step apart: its step is whisper's.
    if (i % 2 === 0 || i % 9 === 0) {
      lines.push(`srv1.disk.sda.read ${i * 3} ${t}`);
    }
  }
  return { text: lines.join("\n") + "\n", points: lines.length };
}

const TARGETS = [
  "srv1.cpu.user",
  "srv*.cpu.*",
  "srv{1,2}.net.rx",
  "srv[12].cpu.u*",
  "srv1.disk.*.read",
  "nosuch.key",
  "sumSeries(srv*.cpu.user)",
  "sum(srv*.cpu.system)",
  "averageSeries(srv*.cpu.*)",
  "maxSeries(srv*.cpu.system)",
  "minSeries(srv*.cpu.system)",
  "alias(srv1.cpu.user,'cpu')",
  "aliasByNode(srv*.cpu.*,0,2)",
  "scale(srv1.load.shortterm,10)",
  "scale(srv*.cpu.user,0.5)",
  "derivative(srv1.net.rx)",
  "nonNegativeDerivative(srv*.net.rx)",
  "averageSeries(srv1.cpu.user,srv2.cpu.user)",
  "perSecond(srv*.net.rx)",
  'summarize(srv1.cpu.user,"5min")',
  'summarize(srv*.cpu.system,"1h","max")',
  'summarize(srv1.cpu.user,"10min","avg",true)',
  "aliasByNode(summarize(perSecond(srv*.net.rx),'1min','avg'),0)",
  "srv1.cpu.user|scale(2)",
  "constantLine(100)",
];

const FINDS = [
  "*",
  "srv1.*",
  "srv*.cpu.*",
  "srv{1,2}.net.*",
  "srv[12].cpu.u*",
  "srv1.disk.*",
  "srv?.load.*",
  "nosuch.*",
];

async function sendCarbon(port: number, text: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at));
  }
  conn.close();
}

/** Non-null datapoints in a render answer. */
function present(body: string): number {
  const answer = JSON.parse(body) as { datapoints: [number | null][] }[];
  return answer.flatMap((s) => s.datapoints).filter(([v]) => v !== null)
    .length;
}

Deno.test({
  name:
    "render and find answer as graphite-web 1.1.8 does over the same carbon lines",
  ignore: GRAPHITE_SKIP_REASON !== undefined,
  fn: async (t) => {
    await using real = await RealGraphite.start({ retentions: "10s:30d" });
    await using server = await serve({
      port: 0,
      graphite: { port: 0 },
      http: { port: 0 },
      log: () => {},
    });
    const now = Math.floor(Date.now() / 1000);
    const base = now - (now % STEP) - SLOTS * STEP - 600;
    const { text, points } = dataset(base);
    await real.send(text);
    await sendCarbon(server.graphite!.port, text);
    const all = `target=srv*.*.*&target=srv*.*.*.*&from=${
      base - 1
    }&until=${now}&format=json&noCache=1`;
    // carbon writes whisper files in the background: wait for every point.
    await waitFor("carbon's whisper files", async () => {
      const { body } = await real.get(`/render?${all}`);
      return present(body) === points;
    }, () => real.output);
    const ours = async (query: string): Promise<string> => {
      const response = await fetch(`${server.http!.url}${query.slice(1)}`);
      assertEquals(response.status, 200, query);
      return await response.text();
    };
    assertEquals(present(await ours(`/render?${all}`)), points);

    const ranges = [
      `from=-70min&until=-10min`,
      `from=${base + 5}&until=${base + 1805}`,
      `from=-30min&until=-20min`,
      `from=-3h&until=-50min`,
    ];
    for (const target of TARGETS) {
      await t.step(target, async () => {
        const wrong: string[] = [];
        for (const range of ranges) {
          for (const points of ["", "&maxDataPoints=50", "&maxDataPoints=7"]) {
            const query = `/render?target=${
              encodeURIComponent(target)
            }&${range}&now=${now}&format=json${points}`;
            const theirs = await real.get(`${query}&noCache=1`);
            assertEquals(theirs.status, 200, theirs.body);
            const mine = await ours(query);
            const same = JSON.stringify(JSON.parse(mine)) ===
              JSON.stringify(JSON.parse(theirs.body));
            if (!same) {
              wrong.push(
                `${query}\n  ours:   ${mine.slice(0, 600)}\n  theirs: ${
                  theirs.body.slice(0, 600)
                }`,
              );
            }
          }
        }
        assertEquals(wrong, []);
      });
    }

    await t.step("a POSTed form with two targets", async () => {
      const form = new URLSearchParams([
        ["target", "srv1.cpu.user"],
        ["target", "sumSeries(srv*.net.rx)"],
        ["from", "-40min"],
        ["until", "-15min"],
        ["now", String(now)],
        ["format", "json"],
        ["maxDataPoints", "20"],
      ]);
      const theirs = await fetch(`${real.url}/render?noCache=1`, {
        method: "POST",
        body: form,
      }).then((r) => r.text());
      const mine = await fetch(`${server.http!.url}render`, {
        method: "POST",
        body: form,
      }).then((r) => r.text());
      assertEquals(JSON.parse(mine), JSON.parse(theirs));
    });

    for (const query of FINDS) {
      await t.step(`find ${query}`, async () => {
        const path = `/metrics/find?query=${encodeURIComponent(query)}`;
        const theirs = await real.get(path);
        assertEquals(theirs.status, 200);
        assertEquals(JSON.parse(await ours(path)), JSON.parse(theirs.body));
      });
    }
  },
});

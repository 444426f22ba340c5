/**
 * The carbon line parser and tag normalisation against carbon 1.1.7's own
 * code (`MetricLineReceiver.lineReceived` and `TaggedSeries`, run by
 * tests/helpers/graphite_oracle.py) on thousands of generated lines.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import {
  parseCarbonLine,
  pythonFloatText,
} from "../../../src/server/graphite/carbon_line.ts";
import { normaliseKey } from "../../../src/server/graphite/tags.ts";
import {
  GRAPHITE_SKIP_REASON,
  graphiteOracle,
} from "../../helpers/graphite.ts";

const ignore = GRAPHITE_SKIP_REASON !== undefined;

/** A small deterministic generator, so a failure replays. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}

const KEYS = [
  "web1.load.shortterm",
  "cpu;host=a;dc=b",
  "cpu;dc=b;host=a",
  'cpu{host="a",dc="b"}',
  "~tilde.key",
  "k;nosign",
  "k;=v",
  "k;t=~v",
  "ключ.x",
  "a;b=1;b=2",
  "a;c=1;a-b=2;a=3",
];
const VALUES = [
  "1",
  "-2.5",
  "1e3",
  "1_000",
  ".5",
  "5.",
  "+3",
  "nan",
  "NaN",
  "-nan",
  "inf",
  "-Infinity",
  "x",
  "0x10",
  "1,5",
  "1__0",
];
const TIMES = [
  "1700000000",
  "1700000000.0",
  "1700000000.9",
  "1e9",
  "-5.5",
  "1_7",
  "0",
  "nan",
  "inf",
  "x",
  "12.5.1",
];
const SEPARATORS = [
  " ",
  "  ",
  "\t",
  " \t ",
  "\u00a0",
  "\x1f",
  "\u2003",
  "\x0b",
];

function lines(count: number): string[] {
  const pick = random(24);
  const one = <T>(list: readonly T[]): T => list[pick(list.length)];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let fields = [one(KEYS), one(VALUES), one(TIMES)];
    if (pick(10) === 0) fields = fields.slice(0, 1 + pick(2));
    if (pick(10) === 0) fields.push(one(VALUES));
    let line = fields.map((f) => f + one(SEPARATORS)).join("").trimEnd();
    if (pick(3) === 0) line = one(SEPARATORS) + line;
    if (pick(4) === 0) line += "\r";
    out.push(line);
  }
  return out;
}

type Oracle = ["point", string, string, number] | ["none"] | ["error", string];

Deno.test({
  name: "lines are read as carbon's MetricLineReceiver reads them",
  ignore,
  fn: async () => {
    const now = 1_800_000_000;
    const input = [...lines(3000), "", "   ", "a.b 1 -1", "a.b 1 -1.5"];
    const expected = await graphiteOracle<Oracle[]>("lines", input);
    const wrong: string[] = [];
    input.forEach((line, i) => {
      const ours = parseCarbonLine(line, now);
      const theirs = expected[i];
      let same: boolean;
      if (theirs[0] === "point") {
        const value = pythonFloatText(theirs[2])!;
        const time = Math.trunc(theirs[3]);
        // Carbon stores infinities; the protocol's store takes finite values only.
        if (!Number.isFinite(value)) same = ours.kind === "invalid";
        else {
          same = ours.kind === "point" && ours.point.key === theirs[1] &&
            ours.point.value === value &&
            ours.point.timestamp === (time === -1 ? now : time);
          // -1 is "now" to carbon: its clock, not ours.
          if (time > 1_700_000_000 && line.includes(" -1")) {
            same = ours.kind === "point" && ours.point.timestamp === now;
          }
        }
      } else if (theirs[0] === "none") {
        same = ours.kind !== "point";
      } else same = ours.kind === "invalid";
      if (!same) {
        wrong.push(
          `${JSON.stringify(line)}: ours ${JSON.stringify(ours)}, carbon ${
            JSON.stringify(theirs)
          }`,
        );
      }
    });
    assertEquals(wrong, []);
    assert(expected.filter((e) => e[0] === "point").length > 500);
  },
});

Deno.test({
  name: "tagged names are normalised as carbon's TaggedSeries does",
  ignore,
  fn: async () => {
    const pick = random(7);
    const tags = ["a=1", "b=2", "a-b=3", "dc=ams", "é=x", "z=🙂", "A=0", "a=9"];
    const names = [...KEYS, "", "~", "~~x;a=1", 'm{a="x\\"y",b="2"}', "m{a=1}"];
    for (let i = 0; i < 500; i++) {
      const count = 1 + pick(4);
      const chosen = Array.from(
        { length: count },
        () => tags[pick(tags.length)],
      );
      names.push(["metric.name", ...chosen].join(";"));
    }
    const expected = await graphiteOracle<string[]>("names", names);
    assertEquals(names.map(normaliseKey), expected);
  },
});

Deno.test("python float text: what float() takes and refuses", () => {
  assertEquals(pythonFloatText("1_000.5"), 1000.5);
  assertEquals(pythonFloatText("-Infinity"), -Infinity);
  assertEquals(pythonFloatText(".5e1"), 5);
  assert(Number.isNaN(pythonFloatText("-nan")!));
  for (const bad of ["1__0", "_1", "1_", "0x10", "1,5", "", "e5", "1e"]) {
    assertEquals(pythonFloatText(bad), undefined, bad);
  }
});

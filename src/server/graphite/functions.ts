/**
 * The render functions this server offers, each as graphite-web 1.1.8
 * computes it (`graphite/render/functions.py`): names, tags, steps and
 * null handling included, so a dashboard shows the same lines. A function
 * not listed here is refused by name. Pure: no I/O.
 *
 * @module
 */

import { pythonFloat } from "../../protocol/number_text.ts";
import { AGGREGATES } from "./aggregates.ts";
import {
  type Aggregate,
  consolidate,
  floorMod,
  type GraphiteSeries,
} from "./series.ts";
import { parseOffset } from "./time.ts";
import { firstPath, parseTarget, TargetError } from "./target.ts";

/** An evaluated argument. */
export type Value =
  | readonly GraphiteSeries[]
  | number
  | string
  | boolean
  | null;

/** What a function may read of the request. */
export interface RenderContext {
  /** Unix seconds the request starts at. */
  readonly from: number;
  /** Unix seconds the request ends at. */
  readonly until: number;
}

/** One evaluated argument. */
export interface Argument {
  /** Its value: a series list or a scalar. */
  readonly value: Value;
}

type Fn = (
  context: RenderContext,
  args: readonly Argument[],
  kwargs: ReadonlyMap<string, Argument>,
) => GraphiteSeries[];

/** Most slots `summarize` may make per series. */
export const MAX_SUMMARIZE_SLOTS = 1_000_000;

function isSeriesList(value: Value): value is readonly GraphiteSeries[] {
  return Array.isArray(value);
}

/** Reads the arguments of one call, by position or keyword. */
class Params {
  readonly #fn: string;
  readonly #args: readonly Argument[];
  readonly #kwargs: ReadonlyMap<string, Argument>;

  constructor(
    fn: string,
    args: readonly Argument[],
    kwargs: ReadonlyMap<string, Argument>,
  ) {
    this.#fn = fn;
    this.#args = args;
    this.#kwargs = kwargs;
  }

  #fail(what: string): never {
    throw new TargetError(`${this.#fn}: ${what}`);
  }

  #get(index: number, name: string): Argument | undefined {
    const arg = this.#args[index] ?? this.#kwargs.get(name);
    return arg?.value === null ? undefined : arg;
  }

  series(index: number, name: string): readonly GraphiteSeries[] {
    const arg = this.#get(index, name);
    if (arg === undefined || !isSeriesList(arg.value)) {
      this.#fail(`${name} must be a series list`);
    }
    return arg.value;
  }

  number(index: number, name: string): number;
  number(index: number, name: string, optional: true): number | undefined;
  number(index: number, name: string, optional = false): number | undefined {
    const arg = this.#get(index, name);
    if (arg === undefined && optional) return undefined;
    if (arg === undefined || typeof arg.value !== "number") {
      this.#fail(`${name} must be a number`);
    }
    return arg.value;
  }

  string(index: number, name: string, fallback?: string): string {
    const arg = this.#get(index, name);
    if (arg === undefined && fallback !== undefined) return fallback;
    if (arg === undefined || typeof arg.value !== "string") {
      this.#fail(`${name} must be a quoted string`);
    }
    return arg.value;
  }

  boolean(index: number, name: string): boolean {
    const arg = this.#get(index, name);
    if (arg === undefined) return false;
    if (typeof arg.value !== "boolean") {
      this.#fail(`${name} must be true or false`);
    }
    return arg.value;
  }

  /** Every positional argument from `index` on, each a series list. */
  seriesLists(index: number): (readonly GraphiteSeries[])[] {
    return this.#args.slice(index).map((arg) => {
      if (!isSeriesList(arg.value)) {
        this.#fail("every argument must be a series list");
      }
      return arg.value;
    });
  }

  /** Positional arguments from `index` on, as written: node numbers or tag names. */
  rest(index: number): Argument[] {
    return this.#args.slice(index);
  }
}

function withValues(
  series: GraphiteSeries,
  name: string,
  values: Float64Array,
  tags: Readonly<Record<string, string>>,
): GraphiteSeries {
  return { ...series, name, pathExpression: name, values, tags };
}

/** Python's `%g`, as graphite-web names `scale(x,%g)`. */
export function formatG(value: number): string {
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  if (!Number.isFinite(value)) {
    return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  }
  const [mantissa, exponentText] = value.toExponential(5).split("e");
  const exponent = Number(exponentText);
  const trim = (text: string): string =>
    text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? "-" : "+";
    return `${trim(mantissa)}e${sign}${
      String(Math.abs(exponent)).padStart(2, "0")
    }`;
  }
  return trim(value.toFixed(5 - exponent));
}

/** graphite's `normalize` then `aggregate(..., func)`. */
function aggregate(
  lists: readonly (readonly GraphiteSeries[])[],
  func: string,
): GraphiteSeries[] {
  const list = lists.flat();
  if (list.length === 0) return [];
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const step = list.reduce(
    (a, s) => (a === s.step ? a : (a / gcd(a, s.step)) * s.step),
    list[0].step,
  );
  let start = Infinity;
  let end = -Infinity;
  let length = 0;
  const columns = list.map((s) => {
    start = Math.min(start, s.start);
    end = Math.max(end, s.end);
    const column = consolidate(s.values, step / s.step);
    length = Math.max(length, column.length);
    return column;
  });
  end -= floorMod(end - start, step);
  const f = AGGREGATES.get(func)!;
  const values = new Float64Array(length);
  const row: number[] = new Array(columns.length);
  for (let i = 0; i < length; i++) {
    let present = 0;
    for (let c = 0; c < columns.length; c++) {
      row[c] = i < columns[c].length ? columns[c][i] : NaN;
      if (!Number.isNaN(row[c])) present++;
    }
    values[i] = present === 0 ? NaN : f(row);
  }
  const expressions = [...new Set(list.map((s) => s.pathExpression))];
  const name = `${func}Series(${expressions.join(",")})`;
  const tags: Record<string, string> = { ...list[0].tags };
  for (const series of list) {
    for (const tag of Object.keys(tags)) {
      if (series.tags[tag] !== tags[tag]) delete tags[tag];
    }
  }
  tags.name ??= name;
  tags.aggregatedBy = func;
  return [{ name, pathExpression: name, tags, start, end, step, values }];
}

/** graphite's `_nonNegativeDelta`: the increase, or null for a reset. */
function nonNegativeDelta(
  value: number,
  prev: number,
  maxValue: number | undefined,
  minValue: number | undefined,
): [delta: number, prev: number] {
  if (maxValue !== undefined && value > maxValue) return [NaN, NaN];
  if (minValue !== undefined && value < minValue) return [NaN, NaN];
  if (Number.isNaN(prev) || Number.isNaN(value)) return [NaN, value];
  if (value >= prev) return [value - prev, value];
  if (maxValue !== undefined) {
    return [maxValue + 1 + value - prev - (minValue ?? 0), value];
  }
  if (minValue !== undefined) return [value - minValue, value];
  return [NaN, value];
}

/** Python's `round(x, 6)` for the magnitudes `perSecond` gives. */
function round6(value: number): number {
  return Number.isFinite(value) && Math.abs(value) < 1e15
    ? Number(value.toFixed(6))
    : value;
}

function counterFunction(name: string, perSecond: boolean): Fn {
  return (_context, args, kwargs) => {
    const p = new Params(name, args, kwargs);
    const maxValue = p.number(1, "maxValue", true);
    const minValue = p.number(2, "minValue", true);
    return p.series(0, "seriesList").map((series) => {
      const values = new Float64Array(series.values.length);
      let prev = NaN;
      for (let i = 0; i < values.length; i++) {
        let delta;
        [delta, prev] = nonNegativeDelta(
          series.values[i],
          prev,
          maxValue,
          minValue,
        );
        values[i] = perSecond ? round6(delta / series.step) : delta;
      }
      return withValues(series, `${name}(${series.name})`, values, {
        ...series.tags,
        [name]: "1",
      });
    });
  };
}

/** `aliasByNode`'s key: nodes of the first path in the name, or tags. */
function nodeKey(series: GraphiteSeries, nodes: readonly Argument[]): string {
  let path = series.name;
  if (path.endsWith(")")) {
    try {
      path = firstPath(parseTarget(path)) ?? path;
    } catch {
      // A name that is no expression: its nodes are its own.
    }
  }
  const parts = path.split(";", 1)[0].split(".");
  return nodes.map(({ value }) => {
    if (typeof value === "number" && Number.isInteger(value)) {
      const node = parts[value < 0 ? parts.length + value : value];
      if (node !== undefined) return node;
    }
    return series.tags[String(value)] ?? "";
  }).join(".");
}

function aggregator(func: string): Fn {
  return (_context, args, kwargs) =>
    aggregate(new Params(`${func}Series`, args, kwargs).seriesLists(0), func);
}

/** graphite's `_summarizeValues`: one aggregate per interval. */
function summarizeValues(
  series: GraphiteSeries,
  f: Aggregate,
  interval: number,
  start: number,
  end: number,
): [Float64Array, number] {
  const out: number[] = [];
  const count = series.values.length;
  let i = 0;
  let at = start;
  for (; at < end; at += interval) {
    const first = i;
    let present = 0;
    while (i < count && series.start + i * series.step < at + interval) {
      if (!Number.isNaN(series.values[i])) present++;
      i++;
    }
    out.push(
      present === 0 ? NaN : f(Array.from(series.values.subarray(first, i))),
    );
  }
  return [Float64Array.from(out), at];
}

const summarize: Fn = (_context, args, kwargs) => {
  const p = new Params("summarize", args, kwargs);
  const list = p.series(0, "seriesList");
  const intervalText = p.string(1, "intervalString");
  const func = p.string(2, "func", "sum");
  const alignToFrom = p.boolean(3, "alignToFrom");
  const interval = parseOffset(intervalText);
  const f = AGGREGATES.get(func);
  if (f === undefined) {
    throw new TargetError(`summarize: unsupported func "${func}"`);
  }
  if (interval <= 0) {
    throw new TargetError(
      `summarize: the interval "${intervalText}" must be positive`,
    );
  }
  return list.map((series) => {
    let start = series.start;
    let end = series.end;
    if (!alignToFrom) {
      start -= floorMod(start, interval);
      end = end - floorMod(end, interval) + interval;
    }
    if ((end - start) / interval > MAX_SUMMARIZE_SLOTS) {
      throw new TargetError(
        `summarize: "${intervalText}" makes more than ${MAX_SUMMARIZE_SLOTS} buckets over this range`,
      );
    }
    const [values, alignedEnd] = summarizeValues(
      series,
      f,
      interval,
      start,
      end,
    );
    const name = `summarize(${series.name}, "${intervalText}", "${func}"${
      alignToFrom ? ", true" : ""
    })`;
    return {
      ...withValues(series, name, values, {
        ...series.tags,
        summarize: intervalText,
        summarizeFunction: func,
      }),
      start,
      end: alignToFrom ? alignedEnd : end,
      step: interval,
    };
  });
};

/** The functions offered, by name. */
export const FUNCTIONS: ReadonlyMap<string, Fn> = new Map<string, Fn>([
  ["alias", (_context, args, kwargs) => {
    const p = new Params("alias", args, kwargs);
    const name = p.string(1, "newName");
    return p.series(0, "seriesList").map((s) => ({ ...s, name }));
  }],
  ["aliasByNode", (_context, args, kwargs) => {
    const p = new Params("aliasByNode", args, kwargs);
    const nodes = p.rest(1);
    if (nodes.length === 0) {
      throw new TargetError("aliasByNode: give at least one node");
    }
    return p.series(0, "seriesList").map((s) => ({
      ...s,
      name: nodeKey(s, nodes),
    }));
  }],
  ["sumSeries", aggregator("sum")],
  ["sum", aggregator("sum")],
  ["averageSeries", aggregator("average")],
  ["avg", aggregator("average")],
  ["maxSeries", aggregator("max")],
  ["minSeries", aggregator("min")],
  ["scale", (_context, args, kwargs) => {
    const p = new Params("scale", args, kwargs);
    const factor = p.number(1, "factor");
    return p.series(0, "seriesList").map((s) =>
      withValues(
        s,
        `scale(${s.name},${formatG(factor)})`,
        s.values.map((v) => v * factor),
        { ...s.tags, scale: pythonFloat(factor) },
      )
    );
  }],
  ["derivative", (_context, args, kwargs) => {
    const p = new Params("derivative", args, kwargs);
    return p.series(0, "seriesList").map((s) => {
      const values = s.values.map((
        v,
        i,
      ) => (i === 0 ? NaN : v - s.values[i - 1]));
      return withValues(s, `derivative(${s.name})`, values, {
        ...s.tags,
        derivative: "1",
      });
    });
  }],
  ["nonNegativeDerivative", counterFunction("nonNegativeDerivative", false)],
  ["perSecond", counterFunction("perSecond", true)],
  ["summarize", summarize],
  ["constantLine", (context, args, kwargs) => {
    const value = new Params("constantLine", args, kwargs).number(0, "value");
    const name = pythonFloat(value);
    const { from: start, until: end } = context;
    return [{
      name,
      pathExpression: `constantLine(${name})`,
      tags: { name },
      start,
      end,
      step: Math.trunc((end - start) / 2),
      values: Float64Array.of(value, value, value),
    }];
  }],
]);

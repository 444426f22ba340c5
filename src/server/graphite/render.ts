/**
 * `/render` (format=json) and `/metrics/find`, as graphite-web 1.1.8
 * answers them: the request's parameters read and checked (a bad one is a
 * {@link TargetError}, answered 400), targets parsed, their paths looked
 * up in one pass over the keys, each key read once, the functions
 * applied, the answer written as graphite-web writes it.
 *
 * Bounded: at most {@link RenderLimits.maxTargets} targets and
 * {@link RenderLimits.maxSeries} series a request, about
 * {@link RenderLimits.maxSlots} slots in all (a key's step widens to fit),
 * and a deadline on the pass over the keys.
 *
 * @module
 */

import type { Storage } from "../storage/storage.ts";
import { eachTreeKey, fetchSeries, matchKeys } from "./fetch.ts";
import { type Argument, FUNCTIONS, type Value } from "./functions.ts";
import { compileGlob, type Glob, matchesGlob } from "./glob.ts";
import { type GraphiteSeries, seriesJson, timeRangeOf } from "./series.ts";
import { nextTurn } from "../../internal/turn.ts";
import { normaliseKey } from "./tags.ts";
import { type Expr, parseTarget, pathsOf, TargetError } from "./target.ts";
import { parseTime } from "./time.ts";

/** The bounds of one request. */
export interface RenderLimits {
  /** Targets in one request. */
  readonly maxTargets: number;
  /** Series the paths of one request may name. */
  readonly maxSeries: number;
  /** Slots read in all, shared by the series named. */
  readonly maxSlots: number;
  /** Milliseconds the pass over the keys may take. */
  readonly deadlineMs: number;
}

/** The bounds used unless a test asks for others. */
export const RENDER_LIMITS: RenderLimits = {
  maxTargets: 100,
  maxSeries: 10_000,
  maxSlots: 500_000,
  deadlineMs: 10_000,
};

/** Points written between two turns of the event loop. */
const TURN_POINTS = 65_536;
/** Fewest slots a series gets however many share the budget. */
const MIN_SLOTS = 100;

const FUNCTION_NAMES = [...FUNCTIONS.keys()].join(", ");

/** The time range and shape a render request asks for. */
interface RenderRequest {
  readonly targets: Expr[];
  readonly from: number;
  readonly until: number;
  readonly maxDataPoints?: number;
  readonly noNullPoints: boolean;
}

function parseRequest(
  params: URLSearchParams,
  realNow: number,
  limits: RenderLimits,
): RenderRequest {
  const format = params.get("format") ?? "json";
  if (format !== "json") {
    throw new TargetError(
      `format=${format.slice(0, 20)} is not served; use format=json`,
    );
  }
  const texts = params.getAll("target").filter((text) => text.trim() !== "");
  if (texts.length > limits.maxTargets) {
    throw new TargetError(
      `more than ${limits.maxTargets} targets in one request`,
    );
  }
  const now = params.has("now")
    ? parseTime(params.get("now")!, realNow)
    : realNow;
  const until = params.has("until")
    ? parseTime(params.get("until")!, now)
    : now;
  const from = params.has("from")
    ? parseTime(params.get("from")!, now)
    : now - 86400;
  if (from === until) {
    throw new TargetError("from and until are the same second");
  }
  const points = params.get("maxDataPoints");
  if (points !== null && !/^[1-9]\d{0,8}$/.test(points)) {
    throw new TargetError(
      `maxDataPoints must be a whole number from 1, got "${
        points.slice(0, 20)
      }"`,
    );
  }
  return {
    targets: texts.map(parseTarget),
    from: Math.min(from, until),
    until: Math.max(from, until),
    maxDataPoints: points === null ? undefined : Number(points),
    noNullPoints: params.has("noNullPoints"),
  };
}

/** Evaluates one expression over the series fetched for its paths. */
function evaluate(
  expr: Expr,
  request: RenderRequest,
  fetched: ReadonlyMap<string, readonly GraphiteSeries[]>,
): Value {
  switch (expr.type) {
    case "path":
      return fetched.get(expr.path) ?? [];
    case "number":
    case "string":
    case "boolean":
      return expr.value;
    case "none":
      return null;
  }
  const fn = FUNCTIONS.get(expr.name);
  if (fn === undefined) {
    throw new TargetError(
      `the function ${expr.name} is not supported; supported: ${FUNCTION_NAMES}`,
    );
  }
  const argument = (arg: Expr): Argument => ({
    value: evaluate(arg, request, fetched),
  });
  const kwargs = new Map(
    [...expr.kwargs].map(([name, arg]) => [name, argument(arg)]),
  );
  return fn(request, expr.args.map(argument), kwargs);
}

/** The keys each path names: a glob's matches, or the one key it spells. */
async function resolvePaths(
  storage: Storage,
  paths: readonly string[],
  limits: RenderLimits,
): Promise<Map<string, string[]>> {
  const globs: Glob[] = [];
  const keys = new Map<string, string[]>();
  for (const path of paths) {
    let glob: Glob;
    try {
      glob = compileGlob(path);
    } catch (error) {
      throw new TargetError((error as Error).message);
    }
    // Tagged keys are not in the tree a glob walks: a tagged path names
    // its one key, `*` or `[` in a tag value included (as graphite-web).
    if (glob.wildcard && !path.includes(";")) globs.push(glob);
    else keys.set(path, [normaliseKey(path.replaceAll("\\", ""))]);
  }
  const deadline = Date.now() + limits.deadlineMs;
  const matched = await matchKeys(storage, globs, limits.maxSeries, deadline);
  globs.forEach((glob, i) => keys.set(glob.pattern, matched[i]));
  return keys;
}

/**
 * The JSON answer of `/render` for `params`.
 *
 * @throws {TargetError} for a parameter or target that cannot be served.
 */
export async function renderAnswer(
  storage: Storage,
  params: URLSearchParams,
  now: number,
  limits: RenderLimits = RENDER_LIMITS,
): Promise<string> {
  const request = parseRequest(params, now, limits);
  const paths = [...new Set(request.targets.flatMap(pathsOf))];
  const keysOf = await resolvePaths(storage, paths, limits);
  const uses = [...keysOf.values()].reduce((n, keys) => n + keys.length, 0);
  if (uses > limits.maxSeries) {
    throw new TargetError(
      `the targets name more than ${limits.maxSeries} series; narrow them`,
    );
  }
  const slots = Math.max(
    MIN_SLOTS,
    Math.floor(limits.maxSlots / Math.max(1, uses)),
  );
  const fetched = new Map<string, GraphiteSeries[]>();
  for (const [path, keys] of keysOf) {
    const list: GraphiteSeries[] = [];
    for (const key of keys) {
      const series = await fetchSeries(
        storage,
        key,
        path,
        request.from,
        request.until,
        slots,
      );
      if (series !== undefined) list.push(series);
      // A key's history may be millions of points: a turn after each.
      await nextTurn();
    }
    fetched.set(path, list);
  }
  const results = request.targets.flatMap((target) => {
    const value = evaluate(target, request, fetched);
    if (!Array.isArray(value)) {
      throw new TargetError(
        "a target must give series, not a number or a string",
      );
    }
    return value as GraphiteSeries[];
  });
  // graphite-web answers [] when no series has a slot.
  if (results.every((series) => series.values.length === 0)) return "[]";
  const timeRange = timeRangeOf(results);
  const parts: string[] = [];
  let work = 0;
  for (const series of results) {
    const text = seriesJson(series, timeRange, request);
    if (text !== undefined) parts.push(text);
    // A turn for the others about every 64k points written.
    work += series.values.length;
    if (work >= TURN_POINTS) {
      work = 0;
      await nextTurn();
    }
  }
  return `[${parts.join(", ")}]`;
}

/** One node of a `/metrics/find` answer, as graphite-web's treejson. */
interface FindNode {
  readonly text: string;
  readonly id: string;
  readonly allowChildren: 0 | 1;
  readonly expandable: 0 | 1;
  readonly leaf: 0 | 1;
}

/**
 * The treejson answer of `/metrics/find`: the nodes at the query's depth
 * under keys it matches, branches then leaves, each sorted by name.
 *
 * @throws {TargetError} for a missing or bad query.
 */
export async function findAnswer(
  storage: Storage,
  params: URLSearchParams,
  limits: RenderLimits = RENDER_LIMITS,
): Promise<string> {
  const query = params.get("query");
  if (query === null || query === "") {
    throw new TargetError("query is required");
  }
  const format = params.get("format") ?? "treejson";
  if (format !== "treejson") {
    throw new TargetError(
      `format=${format.slice(0, 20)} is not served; use treejson`,
    );
  }
  let glob: Glob;
  try {
    glob = compileGlob(query);
  } catch (error) {
    throw new TargetError((error as Error).message);
  }
  const depth = glob.nodes.length;
  const kinds = new Map<string, { leaf: boolean; branch: boolean }>();
  await eachTreeKey(storage, Date.now() + limits.deadlineMs, (_key, nodes) => {
    if (!matchesGlob(glob, nodes, false)) return;
    const name = nodes[depth - 1];
    const kind = kinds.get(name) ?? { leaf: false, branch: false };
    if (nodes.length === depth) kind.leaf = true;
    else kind.branch = true;
    kinds.set(name, kind);
  });
  const base = query.includes(".")
    ? query.slice(0, query.lastIndexOf(".") + 1)
    : "";
  const names = [...kinds.keys()].sort();
  const branches = names.filter((name) => kinds.get(name)!.branch);
  const leaves = names.filter((name) => !kinds.get(name)!.branch);
  const node = (name: string, leaf: boolean): FindNode => ({
    text: name,
    id: base + name,
    allowChildren: leaf ? 0 : 1,
    expandable: leaf ? 0 : 1,
    leaf: leaf ? 1 : 0,
  });
  const nodes = [
    ...(params.get("wildcards") === "1" && names.length > 1
      ? [{ ...node("*", branches.length === 0), id: `${base}*` }]
      : []),
    ...branches.map((name) => node(name, false)),
    ...leaves.map((name) => node(name, true)),
  ];
  return JSON.stringify(nodes);
}

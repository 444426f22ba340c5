/**
 * Tagged Graphite names as carbon 1.1 normalises them: `name;tag=value`
 * (or OpenMetrics' `name{tag="value"}`) becomes the name, then every
 * `;tag=value` sorted as text, so one series has one key whatever order a
 * sender wrote its tags in. Pure: no I/O.
 *
 * @module
 */

/** Characters carbon refuses in a tag's name. */
const PROHIBITED_IN_TAG = /[;!^=]/;
/** One OpenMetrics label, as carbon 1.1.7 matches it (its regex, verbatim). */
const OPENMETRICS_LABEL = /^([^=]+)="((?:[\\]["\\]|[^"\\])+)"(:?,|$)/;

/**
 * Compares two strings by code point, as Python sorts them (JavaScript's
 * `<` compares UTF-16 units, which orders astral characters differently).
 */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Tags of a series: always `name`, then whatever the sender gave. */
export type Tags = Map<string, string>;

/** Whether carbon takes `tag=value`; it throws on the same cases. */
function validTag(tag: string, value: string): boolean {
  return tag.length > 0 && value.length > 0 && !PROHIBITED_IN_TAG.test(tag) &&
    !value.includes(";") && !value.startsWith("~");
}

/** `~` is stripped from the front of a name used as the `name` tag. */
function nameTag(metric: string): string | undefined {
  const name = metric.replace(/^~+/, "");
  return name === "" ? undefined : name;
}

/**
 * The tags of a tagged name, or `undefined` where carbon's parser throws
 * (carbon then keeps the name unchanged).
 */
export function parseTags(path: string): Tags | undefined {
  if (path.endsWith('"}') && path.includes("{")) return parseOpenMetrics(path);
  const [metric, ...segments] = path.split(";");
  if (metric === "") return undefined;
  const tags: Tags = new Map();
  for (const segment of segments) {
    const eq = segment.indexOf("=");
    if (eq <= 0) return undefined;
    const tag = segment.slice(0, eq);
    const value = segment.slice(eq + 1);
    if (!validTag(tag, value)) return undefined;
    tags.set(tag, value);
  }
  const name = nameTag(metric);
  if (name === undefined) return undefined;
  tags.set("name", name);
  return tags;
}

function parseOpenMetrics(path: string): Tags | undefined {
  const parts = path.slice(0, -1).split("{");
  // Python's `split('{', 2)` into two names fails on a third part.
  if (parts.length !== 2 || parts[0] === "") return undefined;
  const [metric] = parts;
  let rest = parts[1];
  const tags: Tags = new Map();
  while (rest.length > 0) {
    const match = rest.match(OPENMETRICS_LABEL);
    if (!match) return undefined;
    const tag = match[1];
    const value = match[2].replaceAll('\\"', '"').replaceAll("\\\\", "\\");
    if (!validTag(tag, value)) return undefined;
    tags.set(tag, value);
    rest = rest.slice(match[0].length);
  }
  const name = nameTag(metric);
  if (name === undefined) return undefined;
  tags.set("name", name);
  return tags;
}

/** The key of `tags`: the name, then each `;tag=value` sorted as text. */
export function formatTags(tags: Tags): string {
  const pairs: string[] = [];
  for (const [tag, value] of tags) {
    if (tag !== "name") pairs.push(`;${tag}=${value}`);
  }
  return (tags.get("name") ?? "") + pairs.sort(compareCodePoints).join("");
}

/**
 * The key carbon stores `path` under: tags sorted (`cpu;b=2;a=1` is
 * `cpu;a=1;b=2`), `name{a="1"}` as `name;a=1`, a leading `~` dropped
 * (`~x.y` is `x.y`); any other path, or one carbon cannot parse, unchanged.
 *
 * @example
 * ```ts
 * import { normaliseKey } from "./tags.ts";
 *
 * normaliseKey("disk.used;host=b;dc=x"); // "disk.used;dc=x;host=b"
 * ```
 */
export function normaliseKey(path: string): string {
  if (!/[;{]/.test(path) && !path.startsWith("~")) return path;
  const tags = parseTags(path);
  return tags === undefined ? path : formatTags(tags);
}

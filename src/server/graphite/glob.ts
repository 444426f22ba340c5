/**
 * Graphite's path globs, matched as graphite-web 1.1 matches them against
 * whisper's directory tree: the pattern splits on `.` into nodes, and
 * each node is a shell glob (Python's `fnmatch`: `*`, `?`, `[abc]`,
 * `[!abc]`) with `{a,b}` alternatives, matched against the key's node at
 * the same depth. Backslashes are dropped, as graphite-web drops them.
 * Pure: no I/O.
 *
 * @module
 */

/** One compiled pattern: a matcher per node. */
export interface Glob {
  /** The pattern as given. */
  readonly pattern: string;
  /** One matcher per dot-separated node. */
  readonly nodes: readonly RegExp[];
  /** Whether any node holds a wildcard (else the pattern names one key). */
  readonly wildcard: boolean;
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|]/g;
/** Most characters of a pattern; longer ones are refused (400). */
export const MAX_PATTERN = 1024;

/** Whether `pattern` holds a wildcard or alternatives. */
export function hasWildcard(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** The offsets of `{` and their matching `}` in `node`; unmatched ones are literal. */
function bracePairs(node: string): Map<number, number> {
  const pairs = new Map<number, number>();
  const open: number[] = [];
  for (let i = 0; i < node.length; i++) {
    if (node[i] === "{") open.push(i);
    else if (node[i] === "}" && open.length > 0) pairs.set(open.pop()!, i);
  }
  return pairs;
}

/** `[...]` at `at` as a regex class and the offset after it, as fnmatch reads it. */
function bracket(node: string, at: number): [string, number] | undefined {
  let j = at + 1;
  if (node[j] === "!") j++;
  if (node[j] === "]") j++;
  while (j < node.length && node[j] !== "]") j++;
  if (j >= node.length) return undefined;
  let body = node.slice(at + 1, j).replace(/[\\\]]/g, "\\$&");
  if (body.startsWith("!")) body = `^${body.slice(1)}`;
  else if (body.startsWith("^")) body = `\\${body}`;
  return [`[${body}]`, j + 1];
}

/** One node's glob as a regex source. */
function nodeSource(node: string): string {
  const pairs = bracePairs(node);
  const closers = new Set(pairs.values());
  const open: number[] = [];
  let out = "";
  for (let i = 0; i < node.length; i++) {
    const c = node[i];
    if (pairs.has(i)) {
      open.push(pairs.get(i)!);
      out += "(?:";
    } else if (closers.has(i)) {
      open.pop();
      out += ")";
    } else if (c === "," && open.length > 0) out += "|";
    else if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[" && bracket(node, i) !== undefined) {
      const [source, next] = bracket(node, i)!;
      out += source;
      i = next - 1;
    } else out += c.replace(REGEX_SPECIAL, "\\$&");
  }
  return out;
}

/**
 * Compiles `pattern`.
 *
 * @throws {RangeError} for a pattern over {@link MAX_PATTERN} characters,
 * or one whose class does not compile.
 * @example
 * ```ts
 * import { compileGlob, matchesGlob } from "./glob.ts";
 *
 * const glob = compileGlob("web*.cpu-{0,1}.cpu-[us]*");
 * matchesGlob(glob, "web1.cpu-0.cpu-user".split(".")); // true
 * ```
 */
export function compileGlob(pattern: string): Glob {
  if (pattern.length > MAX_PATTERN) {
    throw new RangeError(`a path is longer than ${MAX_PATTERN} characters`);
  }
  const clean = pattern.replaceAll("\\", "");
  const nodes = clean.split(".").map((node) => {
    try {
      return new RegExp(`^(?:${nodeSource(node)})$`, "su");
    } catch {
      throw new RangeError(`the glob node "${node}" is not valid`);
    }
  });
  return { pattern, nodes, wildcard: hasWildcard(clean) };
}

/** Whether the first nodes of `keyNodes` match `glob` (all of them if `exact`). */
export function matchesGlob(
  glob: Glob,
  keyNodes: readonly string[],
  exact = true,
): boolean {
  const { nodes } = glob;
  if (
    exact ? keyNodes.length !== nodes.length : keyNodes.length < nodes.length
  ) {
    return false;
  }
  for (let i = 0; i < nodes.length; i++) {
    if (!nodes[i].test(keyNodes[i])) return false;
  }
  return true;
}

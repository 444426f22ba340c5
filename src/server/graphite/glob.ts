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
  readonly nodes: readonly NodeMatcher[];
  /** Whether any node holds a wildcard (else the pattern names one key). */
  readonly wildcard: boolean;
}

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

/** One piece of a node's glob: a character test, a `*`, or `{...}` choices. */
type Piece =
  | {
    readonly kind: "char";
    readonly test: (char: string) => boolean;
    /** The one character it takes, if it takes one only. */
    readonly literal?: string;
  }
  | { readonly kind: "star" }
  | { readonly kind: "choice"; readonly choices: Piece[][] };

const anyChar = (): boolean => true;

/** The pieces of `node`, as fnmatch and graphite's brace expansion read it. */
function pieces(node: string): Piece[] {
  const pairs = bracePairs(node);
  const closers = new Set(pairs.values());
  // The sequence being read, innermost last; a choice's current option.
  const stack: Piece[][][] = [[[]]];
  const current = (): Piece[] => stack.at(-1)!.at(-1)!;
  for (let i = 0; i < node.length; i++) {
    const c = node[i];
    if (pairs.has(i)) stack.push([[]]);
    else if (closers.has(i)) {
      const choices = stack.pop()!;
      current().push({ kind: "choice", choices });
    } else if (c === "," && stack.length > 1) stack.at(-1)!.push([]);
    else if (c === "*") current().push({ kind: "star" });
    else if (c === "?") current().push({ kind: "char", test: anyChar });
    else if (c === "[" && bracket(node, i) !== undefined) {
      const [source, next] = bracket(node, i)!;
      const regex = new RegExp(`^${source}$`, "su");
      current().push({ kind: "char", test: (char) => regex.test(char) });
      i = next - 1;
    } else {
      const char = String.fromCodePoint(node.codePointAt(i)!);
      const test = (other: string): boolean => other === char;
      current().push({ kind: "char", test, literal: char });
      i += char.length - 1;
    }
  }
  return current();
}

/** Adds the states of `sequence`, followed by state `then`; returns its start. */
function addStates(
  states: State[],
  sequence: Piece[],
  then: number,
): number {
  let next = then;
  for (let i = sequence.length - 1; i >= 0; i--) {
    const piece = sequence[i];
    const at = states.length;
    if (piece.kind === "char") states.push({ test: piece.test, next: [next] });
    else if (piece.kind === "star") {
      // A fork at `at`: take one more character (back to the fork) or go on.
      states.push({ next: [at + 1, next] }, { test: anyChar, next: [at] });
    } else {
      const fork: State = { next: [] };
      states.push(fork);
      fork.next = piece.choices.map((choice) =>
        addStates(states, choice, next)
      );
    }
    next = at;
  }
  return next;
}

/** A state while building: `test` set for one that takes a character, else a fork. */
interface State {
  readonly test?: (char: string) => boolean;
  next: number[];
}

/** The characters-taking states reached from `state` through forks. */
function reached(states: readonly State[], state: number, out: Set<number>) {
  if (states[state].test !== undefined || state === ACCEPT) out.add(state);
  else for (const to of states[state].next) reached(states, to, out);
}

/** The state where a match ends. */
const ACCEPT = 0;

/**
 * One node's glob as a small automaton, run over a key's node one code
 * point at a time with every live state at once: linear in the node's
 * length, where a backtracking regex tries every way to place many `*`
 * or `{a,b}` (a 30-character pattern held a request, and every other
 * connection, for hours).
 */
export class NodeMatcher {
  /** Per state: whether it takes a character (the accepting state: none). */
  readonly #tests: ((char: string) => boolean)[];
  /** Per state: the states live after it took a character. */
  readonly #follow: number[][];
  readonly #initial: number[];
  /** Whether the glob is only `*`s, so it takes any text. */
  readonly #anything: boolean;
  /** What every text it takes begins with: most keys fail there, cheaply. */
  readonly #prefix: string;
  /** Per state: the pass in which it last became live. */
  readonly #marks: Float64Array;
  #pass = 0;
  /** The live states, and those after the next character (reused). */
  readonly #live: Int32Array;
  readonly #after: Int32Array;

  /** Builds the automaton of the glob `node`. */
  constructor(node: string) {
    const sequence = pieces(node);
    const fixed = sequence.findIndex((piece) =>
      piece.kind !== "char" || piece.literal === undefined
    );
    this.#prefix = sequence.slice(0, fixed === -1 ? undefined : fixed)
      .map((piece) => piece.kind === "char" ? piece.literal : "").join("");
    this.#anything = sequence.length > 0 &&
      sequence.every((piece) => piece.kind === "star");
    const states: State[] = [{ next: [] }];
    const start = addStates(states, sequence, ACCEPT);
    const live = (from: number): number[] => {
      const out = new Set<number>();
      reached(states, from, out);
      return [...out];
    };
    this.#tests = states.map((state) => state.test ?? (() => false));
    this.#follow = states.map((state) =>
      state.test === undefined ? [] : live(state.next[0])
    );
    this.#initial = live(start);
    this.#marks = new Float64Array(states.length);
    this.#live = new Int32Array(states.length);
    this.#after = new Int32Array(states.length);
  }

  /** Whether the glob takes the whole of `text`. */
  matches(text: string): boolean {
    if (this.#anything) return true;
    if (!text.startsWith(this.#prefix)) return false;
    let live = this.#live;
    let after = this.#after;
    let count = this.#initial.length;
    live.set(this.#initial);
    for (let i = 0; i < text.length;) {
      const char = String.fromCodePoint(text.codePointAt(i)!);
      i += char.length;
      const pass = ++this.#pass;
      let next = 0;
      for (let j = 0; j < count; j++) {
        const state = live[j];
        if (!this.#tests[state](char)) continue;
        for (const to of this.#follow[state]) {
          if (this.#marks[to] === pass) continue;
          this.#marks[to] = pass;
          after[next++] = to;
        }
      }
      if (next === 0) return false;
      [live, after, count] = [after, live, next];
    }
    return live.subarray(0, count).includes(ACCEPT);
  }
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
      return new NodeMatcher(node);
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
    if (!nodes[i].matches(keyNodes[i])) return false;
  }
  return true;
}

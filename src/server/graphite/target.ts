/**
 * The target expressions of Graphite's render API, parsed as graphite-web
 * 1.1's grammar reads them: a path expression (`web*.cpu.{user,system}`),
 * a function call with arguments and keyword arguments
 * (`summarize(a.b, "1h", func="max")`), numbers, quoted strings, `true`,
 * `false`, `none`, and pipes (`a.b|scale(2)` is `scale(a.b,2)`). Pure: no
 * I/O.
 *
 * @module
 */

/** A parsed target, or one of its arguments. */
export type Expr =
  | { readonly type: "path"; readonly path: string }
  | {
    readonly type: "call";
    readonly name: string;
    readonly args: readonly Expr[];
    readonly kwargs: ReadonlyMap<string, Expr>;
  }
  | {
    readonly type: "number";
    readonly value: number;
    readonly integer: boolean;
  }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "boolean"; readonly value: boolean }
  | { readonly type: "none" };

/** A target that does not parse or cannot be evaluated: answered 400. */
export class TargetError extends Error {
  /** @param message What is wrong, for the peer. */
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

/** Deepest nesting of calls accepted. */
export const MAX_DEPTH = 32;

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE]-?\d+)?(?=\s*(?:[,)]|$))/y;
const KEYWORD = /(true|false|none)(?![A-Za-z0-9_])/iy;
/** Characters that end a path element outside braces (graphite's symbols). */
const PATH_STOP = /[\s(),'"|]/;

class Parser {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): Expr {
    const expr = this.#expression(0);
    this.#space();
    if (this.#at < this.#text.length) {
      this.#fail(`unexpected "${this.#text[this.#at]}"`);
    }
    return expr;
  }

  #fail(what: string): never {
    throw new TargetError(
      `cannot parse the target at character ${this.#at + 1}: ${what}`,
    );
  }

  #space(): void {
    while (/\s/.test(this.#text[this.#at] ?? "")) this.#at++;
  }

  #sticky(re: RegExp): string | undefined {
    re.lastIndex = this.#at;
    const match = re.exec(this.#text);
    if (!match) return undefined;
    this.#at += match[0].length;
    return match[0];
  }

  /** A call or a path, then any piped calls. */
  #expression(depth: number): Expr {
    if (depth > MAX_DEPTH) this.#fail(`calls nested deeper than ${MAX_DEPTH}`);
    this.#space();
    let expr = this.#callOrPath(depth);
    for (;;) {
      this.#space();
      if (this.#text[this.#at] !== "|") return expr;
      this.#at++;
      this.#space();
      const start = this.#at;
      const piped = this.#callOrPath(depth);
      if (piped.type !== "call") {
        this.#at = start;
        this.#fail("a pipe must lead into a function call");
      }
      expr = { ...piped, args: [expr, ...piped.args] };
    }
  }

  #callOrPath(depth: number): Expr {
    const start = this.#at;
    const name = this.#sticky(IDENT);
    if (name !== undefined) {
      this.#space();
      if (this.#text[this.#at] === "(") {
        this.#at++;
        return this.#call(name, depth);
      }
      this.#at = start;
    }
    return this.#path();
  }

  #call(name: string, depth: number): Expr {
    const args: Expr[] = [];
    const kwargs = new Map<string, Expr>();
    this.#space();
    if (this.#text[this.#at] === ")") {
      this.#at++;
      return { type: "call", name, args, kwargs };
    }
    for (;;) {
      this.#space();
      const start = this.#at;
      const key = this.#sticky(IDENT);
      this.#space();
      if (key !== undefined && this.#text[this.#at] === "=") {
        this.#at++;
        kwargs.set(key, this.#argument(depth));
      } else {
        this.#at = start;
        if (kwargs.size > 0) {
          this.#fail("a positional argument after a keyword one");
        }
        args.push(this.#argument(depth));
      }
      this.#space();
      const next = this.#text[this.#at];
      if (next !== ")" && next !== ",") {
        this.#fail(`"," or ")" expected in ${name}(...)`);
      }
      this.#at++;
      if (next === ")") return { type: "call", name, args, kwargs };
    }
  }

  #argument(depth: number): Expr {
    this.#space();
    const keyword = this.#sticky(KEYWORD)?.toLowerCase();
    if (keyword === "none") return { type: "none" };
    if (keyword !== undefined) {
      return { type: "boolean", value: keyword === "true" };
    }
    const number = this.#sticky(NUMBER);
    if (number !== undefined) {
      return {
        type: "number",
        value: Number(number),
        integer: /^-?\d+$/.test(number),
      };
    }
    const quote = this.#text[this.#at];
    if (quote === '"' || quote === "'") return this.#string(quote);
    return this.#expression(depth + 1);
  }

  /** A quoted string: its text between the quotes, escapes kept as written. */
  #string(quote: string): Expr {
    const start = this.#at++;
    while (this.#at < this.#text.length && this.#text[this.#at] !== quote) {
      if (this.#text[this.#at] === "\\") this.#at++;
      this.#at++;
    }
    if (this.#at >= this.#text.length) {
      this.#at = start;
      this.#fail("a string is not closed");
    }
    this.#at++;
    return { type: "string", value: this.#text.slice(start + 1, this.#at - 1) };
  }

  /** A path expression: elements joined by dots, `{a,b}` groups kept whole. */
  #path(): Expr {
    const start = this.#at;
    let braces = 0;
    while (this.#at < this.#text.length) {
      const c = this.#text[this.#at];
      if (c === "\\") {
        this.#at += 2;
        continue;
      }
      if (c === "{") braces++;
      else if (c === "}") {
        if (braces === 0) break;
        braces--;
      } else if (braces === 0 && PATH_STOP.test(c)) break;
      else if (braces > 0 && /[\s()'"|]/.test(c)) break;
      this.#at++;
    }
    const path = this.#text.slice(start, this.#at);
    if (path === "" || braces > 0) {
      this.#fail("a path or a function call expected");
    }
    return { type: "path", path };
  }
}

/**
 * Parses one target.
 *
 * @throws {TargetError} for text the grammar does not take.
 * @example
 * ```ts
 * import { parseTarget } from "./target.ts";
 *
 * parseTarget("alias(a.b, 'x')");
 * // { type: "call", name: "alias", args: [{ type: "path", path: "a.b" },
 * //   { type: "string", value: "x" }], kwargs: Map(0) {} }
 * ```
 */
export function parseTarget(text: string): Expr {
  return new Parser(text).parse();
}

/** Every path expression in `expr`, in order of appearance. */
export function pathsOf(expr: Expr): string[] {
  if (expr.type === "path") return [expr.path];
  if (expr.type !== "call") return [];
  return [...expr.args, ...expr.kwargs.values()].flatMap(pathsOf);
}

/** The first path expression in `expr`, depth first through first arguments. */
export function firstPath(expr: Expr): string | undefined {
  if (expr.type === "path") return expr.path;
  if (expr.type === "call" && expr.args.length > 0) {
    return firstPath(expr.args[0]);
  }
  return undefined;
}

/**
 * The mutants of one TypeScript source: each a small, plausible slip (a
 * boundary off by one, a copy left out, a condition forced) as a text edit.
 * Pure: text in, edits out. The TypeScript compiler only parses here, so a
 * mutant is found by the shape of the code, never by its types.
 *
 * @module
 */

// Only this tool parses TypeScript: named here, not in deno.json's imports,
// so `deno task demo` never downloads it (see tests/helpers/fast_check.ts).
import ts from "npm:typescript@5.9.3";

/** One fault put in: replace `text.slice(start, end)` with `replacement`. */
export interface Mutant {
  /** Kind of fault, e.g. `boundary`, `number`, `remove call`. */
  readonly operator: string;
  /** Offset of the first replaced character. */
  readonly start: number;
  /** Offset past the last replaced character. */
  readonly end: number;
  /** Text put in place of the replaced span. */
  readonly replacement: string;
  /** Line of `start`, from 1. */
  readonly line: number;
}

/** Binary operators swapped for their neighbour. */
const SWAPS = new Map<ts.SyntaxKind, [string, string]>([
  [ts.SyntaxKind.LessThanToken, ["boundary", "<="]],
  [ts.SyntaxKind.LessThanEqualsToken, ["boundary", "<"]],
  [ts.SyntaxKind.GreaterThanToken, ["boundary", ">="]],
  [ts.SyntaxKind.GreaterThanEqualsToken, ["boundary", ">"]],
  [ts.SyntaxKind.EqualsEqualsEqualsToken, ["equality", "!=="]],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken, ["equality", "==="]],
  [ts.SyntaxKind.EqualsEqualsToken, ["equality", "!="]],
  [ts.SyntaxKind.ExclamationEqualsToken, ["equality", "=="]],
  [ts.SyntaxKind.PlusToken, ["arithmetic", "-"]],
  [ts.SyntaxKind.MinusToken, ["arithmetic", "+"]],
  [ts.SyntaxKind.AsteriskToken, ["arithmetic", "/"]],
  [ts.SyntaxKind.SlashToken, ["arithmetic", "*"]],
  [ts.SyntaxKind.PercentToken, ["arithmetic", "*"]],
  [ts.SyntaxKind.PlusEqualsToken, ["arithmetic", "-="]],
  [ts.SyntaxKind.MinusEqualsToken, ["arithmetic", "+="]],
  [ts.SyntaxKind.AmpersandAmpersandToken, ["logical", "||"]],
  [ts.SyntaxKind.BarBarToken, ["logical", "&&"]],
]);

/** Shifts, mutated by dropping the shift (`n >>> 1` becomes `n`). */
const SHIFTS = new Set([
  ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken,
  ts.SyntaxKind.GreaterThanGreaterThanToken,
  ts.SyntaxKind.LessThanLessThanToken,
]);

/**
 * Methods whose position arguments are moved by one (`subarray(0, n - 1)`),
 * and how many leading arguments are not positions (`set(source, offset)`,
 * `indexOf(search, from)`, `fill(value, start, end)`).
 */
const POSITIONS = new Map([
  ["subarray", 0],
  ["slice", 0],
  ["copyWithin", 0],
  ["fill", 1],
  ["set", 1],
  ["indexOf", 1],
]);

/** `Math` functions swapped for their twin. */
const MATH_TWINS = new Map([
  ["max", "min"],
  ["min", "max"],
  ["floor", "ceil"],
  ["ceil", "floor"],
]);

/** Every mutant of `text`, in source order. */
export function findMutants(fileName: string, text: string): Mutant[] {
  const source = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.TS,
  );
  const found: Mutant[] = [];
  const add = (
    operator: string,
    start: number,
    end: number,
    replacement: string,
  ): void => {
    const line = source.getLineAndCharacterOfPosition(start).line + 1;
    found.push({ operator, start, end, replacement, line });
  };
  const code = (node: ts.Node): string => node.getText(source);

  const visit = (node: ts.Node): void => {
    if (skipped(node)) return;
    mutateNode(node, code, add);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Whether nothing under `node` runs: types, imports, ambient declarations. */
function skipped(node: ts.Node): boolean {
  return ts.isTypeNode(node) || ts.isImportDeclaration(node) ||
    ts.isExportDeclaration(node) || ts.isInterfaceDeclaration(node) ||
    ts.isTypeAliasDeclaration(node) || ts.isDecorator(node) ||
    (ts.canHaveModifiers(node) &&
      (ts.getModifiers(node) ?? []).some((m) =>
        m.kind === ts.SyntaxKind.DeclareKeyword
      ));
}

type Add = (
  operator: string,
  start: number,
  end: number,
  replacement: string,
) => void;

/** The mutants rooted at `node` itself (its children are visited apart). */
function mutateNode(
  node: ts.Node,
  code: (node: ts.Node) => string,
  add: Add,
): void {
  const at = (n: ts.Node): [number, number] => [n.getStart(), n.getEnd()];
  if (ts.isBinaryExpression(node)) {
    const op = node.operatorToken;
    const swap = SWAPS.get(op.kind);
    const stringy = op.kind === ts.SyntaxKind.PlusToken ||
      op.kind === ts.SyntaxKind.PlusEqualsToken;
    if (swap && !(stringy && (textual(node.left) || textual(node.right)))) {
      add(swap[0], ...at(op), swap[1]);
    }
    if (SHIFTS.has(op.kind)) add("shift", ...at(node), code(node.left));
  } else if (ts.isNumericLiteral(node)) {
    for (const n of numberMutants(Number(node.text))) {
      add("number", ...at(node), n);
    }
  } else if (node.kind === ts.SyntaxKind.TrueKeyword) {
    add("boolean", ...at(node), "false");
  } else if (node.kind === ts.SyntaxKind.FalseKeyword) {
    add("boolean", ...at(node), "true");
  } else if (
    (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
    (node.operator === ts.SyntaxKind.PlusPlusToken ||
      node.operator === ts.SyntaxKind.MinusMinusToken)
  ) {
    // A loop counter run backwards only hangs: a timeout, learnt nothing.
    if (ts.isForStatement(node.parent) && node.parent.incrementor === node) {
      return;
    }
    const swapped = node.operator === ts.SyntaxKind.PlusPlusToken ? "--" : "++";
    const operand = code(node.operand);
    add(
      "update",
      ...at(node),
      ts.isPrefixUnaryExpression(node) ? swapped + operand : operand + swapped,
    );
  } else if (
    ts.isPrefixUnaryExpression(node) &&
    node.operator === ts.SyntaxKind.ExclamationToken
  ) {
    add("negation", ...at(node), code(node.operand));
  } else if (ts.isExpressionStatement(node) && removable(node.expression)) {
    add(
      ts.isCallExpression(node.expression) ? "remove call" : "remove statement",
      ...at(node),
      ";",
    );
  } else if (ts.isIfStatement(node) || ts.isConditionalExpression(node)) {
    const condition = ts.isIfStatement(node) ? node.expression : node.condition;
    add("condition", ...at(condition), "true");
    add("condition", ...at(condition), "false");
  } else if (
    ts.isWhileStatement(node) || ts.isDoStatement(node) ||
    ts.isForStatement(node)
  ) {
    // Only `false`: a loop forced on never ends, and costs a timeout.
    const condition = ts.isForStatement(node)
      ? node.condition
      : node.expression;
    if (condition) add("condition", ...at(condition), "false");
  } else if (ts.isCallExpression(node)) {
    mutateCall(node, code, add);
  }
}

/** A call's mutants: `Math.max` for `Math.min`, index arguments moved. */
function mutateCall(
  node: ts.CallExpression,
  code: (node: ts.Node) => string,
  add: Add,
): void {
  const callee = node.expression;
  if (!ts.isPropertyAccessExpression(callee)) return;
  const method = callee.name.text;
  const twin = MATH_TWINS.get(method);
  if (twin && ts.isIdentifier(callee.expression)) {
    if (callee.expression.text === "Math") {
      add("math", callee.name.getStart(), callee.name.getEnd(), twin);
    }
    return;
  }
  const skip = POSITIONS.get(method);
  if (skip === undefined) return;
  for (const arg of node.arguments.slice(skip)) {
    if (ts.isNumericLiteral(arg)) continue; // it gets number mutants
    const text = code(arg);
    add("index", arg.getStart(), arg.getEnd(), `${text} + 1`);
    add("index", arg.getStart(), arg.getEnd(), `${text} - 1`);
  }
}

/** `n + 1`, `n - 1` (not below 0) and `0`, without repeats. */
function numberMutants(n: number): string[] {
  const out = new Set([n + 1, n - 1, 0].filter((m) => m >= 0 && m !== n));
  return [...out].map(String);
}

/** Whether `node` is a string: a `+` there is a concatenation. */
function textual(node: ts.Expression): boolean {
  return ts.isStringLiteral(node) || ts.isTemplateExpression(node) ||
    ts.isNoSubstitutionTemplateLiteral(node);
}

/** Statements whose removal is a plausible slip: calls, writes, counts. */
function removable(expression: ts.Expression): boolean {
  if (ts.isCallExpression(expression)) {
    return expression.expression.kind !== ts.SyntaxKind.SuperKeyword;
  }
  if (ts.isBinaryExpression(expression)) {
    const kind = expression.operatorToken.kind;
    return kind >= ts.SyntaxKind.FirstAssignment &&
      kind <= ts.SyntaxKind.LastAssignment;
  }
  return ts.isPrefixUnaryExpression(expression) ||
    ts.isPostfixUnaryExpression(expression) ||
    ts.isAwaitExpression(expression) || ts.isDeleteExpression(expression);
}

/** `text` with `mutant` put in. */
export function applyMutant(text: string, mutant: Mutant): string {
  return text.slice(0, mutant.start) + mutant.replacement +
    text.slice(mutant.end);
}

/**
 * The whole lines `mutant` touches, before (`- `) and after (`+ `), as a
 * short diff for a report.
 */
export function mutantDiff(text: string, mutant: Mutant): string {
  const from = text.lastIndexOf("\n", mutant.start - 1) + 1;
  const next = text.indexOf("\n", mutant.end);
  const to = next === -1 ? text.length : next;
  const before = text.slice(from, to);
  const after = text.slice(from, mutant.start) + mutant.replacement +
    text.slice(mutant.end, to);
  const mark = (prefix: string, lines: string): string =>
    lines.split("\n").map((line) => prefix + line).join("\n");
  return `${mark("- ", before)}\n${mark("+ ", after)}`;
}

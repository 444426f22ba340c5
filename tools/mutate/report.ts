/**
 * Plain-text lines of a mutation run: one summary line per file, and each
 * survivor with its place and diff.
 *
 * @module
 */

import { type Mutant, mutantDiff } from "./mutants.ts";
import type { FileRun, Outcome } from "./run.ts";

/** `12.3 s` or `4 min 05 s`. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${
    String(whole % 60).padStart(2, "0")
  } s`;
}

/** `file:line  operator`, the name of a mutant in every list. */
export function mutantName(file: string, mutant: Mutant): string {
  return `${file}:${mutant.line}  ${mutant.operator}`;
}

/** How many of `run`'s mutants ended each way. */
export function counts(run: FileRun): Record<Outcome, number> {
  const count = { killed: 0, survived: 0, timeout: 0 };
  for (const result of run.results) count[result.outcome]++;
  return count;
}

/** Killed or timed out, over all mutants, as a percentage. */
export function score(run: FileRun): string {
  const { survived } = counts(run);
  const total = run.results.length;
  return total === 0
    ? "-"
    : `${(100 * (total - survived) / total).toFixed(1)} %`;
}

/** One line: counts, score and time of a file. */
export function summaryLine(run: FileRun): string {
  if (run.error) return `${run.file}: not run: ${run.error.split("\n")[0]}`;
  const { killed, timeout, survived } = counts(run);
  const each = run.results.length === 0 ? 0 : run.ms / run.results.length;
  return `${run.file}: ${run.results.length} mutants, ${killed} killed, ` +
    `${timeout} timed out, ${survived} survived; score ${score(run)}; ` +
    `${duration(run.ms)} (${duration(each)} a mutant, tests ` +
    `${duration(run.baselineMs)} unmutated)`;
}

/** Every survivor of `runs`, each with its diff. */
export function survivorLines(runs: readonly FileRun[]): string[] {
  const lines: string[] = [];
  for (const run of runs) {
    for (const { mutant, outcome } of run.results) {
      if (outcome !== "survived") continue;
      lines.push(`survived  ${mutantName(run.file, mutant)}`);
      lines.push(mutantDiff(run.text, mutant), "");
    }
  }
  return lines;
}

/** The whole report: summaries, then survivors. */
export function report(runs: readonly FileRun[]): string {
  const lines = ["# Mutation run", ""];
  for (const run of runs) {
    lines.push(summaryLine(run));
    if (run.tests.length > 0) lines.push(`  tests: ${run.tests.join(" ")}`);
  }
  const survivors = survivorLines(runs);
  lines.push(
    "",
    `# Survivors (${runs.reduce((n, r) => n + counts(r).survived, 0)})`,
    "",
  );
  lines.push(...survivors);
  return lines.join("\n") + "\n";
}

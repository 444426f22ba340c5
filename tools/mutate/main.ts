/**
 * `deno task mutate`: puts small faults into `src/` one at a time and runs
 * each file's tests against each fault. A fault the tests do not notice (a
 * survivor) is a slip that would ship. Not part of `deno task test`: a file
 * costs minutes.
 *
 * Which tests run for a file: its entry in `tools/mutate/tests.json`, else
 * the tests of its mirror directory under `tests/` (`src/x/y.ts` runs
 * `tests/x/y_test.ts` and the other `tests/x/*_test.ts`). An entry
 * `tests/x_test.ts --filter TEXT` runs only that file's tests whose names
 * hold TEXT.
 *
 * Usage: `deno task mutate [--file src/x.ts]... [--max N] [--list]
 * [--jobs N] [--timeout S] [--out FILE]`
 * - `--file` (or a bare path): mutate these files only; default every
 *   `.ts` file under `src/`.
 * - `--max N`: at most N mutants per file, spread evenly over it.
 * - `--list`: print the mutants and their diffs, run nothing.
 * - `--jobs N`: mutants run at once, each in its own copy of the tree
 *   (default 1).
 * - `--timeout S`: seconds before a mutant's `deno test` is killed and the
 *   mutant counted as timed out (default 3 × that run's time on the
 *   unmutated file + 10; each filtered entry is a run of its own).
 * - `--out FILE`: also write the summaries and the survivors to FILE,
 *   rewritten as each file ends.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { findMutants, type Mutant, mutantDiff } from "./mutants.ts";
import { duration, mutantName, report, summaryLine } from "./report.ts";
import { type FileRun, Workspace } from "./run.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TEST_MAP = "tools/mutate/tests.json";

const flags = parseArgs(Deno.args, {
  boolean: ["list", "help"],
  string: ["file", "max", "jobs", "timeout", "out"],
  collect: ["file"],
});
if (flags.help) {
  console.log(
    "deno task mutate [--file src/x.ts]... [--max N] [--list] " +
      "[--jobs N] [--timeout S] [--out FILE]",
  );
  Deno.exit(0);
}
const max = positive("max", flags.max);
const jobs = positive("jobs", flags.jobs) ?? 1;
const timeoutS = positive("timeout", flags.timeout);
const named = [...flags.file, ...flags._.map(String)].map((f) =>
  relative(ROOT, join(Deno.cwd(), f))
);
const files = named.length > 0 ? named : await sources("src");
for (const file of files) {
  if (
    !file.startsWith("src/") || !file.endsWith(".ts") || !await exists(file)
  ) {
    console.error(`${file}: not a .ts file under src/`);
    Deno.exit(2);
  }
}
const testMap = JSON.parse(
  await Deno.readTextFile(join(ROOT, TEST_MAP)),
) as Record<string, string[]>;

if (flags.list) {
  let total = 0;
  for (const file of files) {
    const text = await Deno.readTextFile(join(ROOT, file));
    const mutants = spread(findMutants(file, text), max);
    total += mutants.length;
    console.log(`# ${file}: ${mutants.length} mutants`);
    for (const mutant of mutants) {
      console.log(`${mutantName(file, mutant)}\n${mutantDiff(text, mutant)}`);
    }
  }
  console.log(`# ${total} mutants in ${files.length} files`);
  Deno.exit(0);
}

const workspace = await Workspace.create(ROOT, jobs);
const interrupted = async (): Promise<void> => {
  console.error("\ninterrupted: stopping the tests, removing the copies");
  await workspace.dispose();
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", interrupted);
const runs: FileRun[] = [];
try {
  for (const file of files) {
    const text = await Deno.readTextFile(join(ROOT, file));
    const mutants = spread(findMutants(file, text), max);
    const tests = testMap[file] ?? await mirrorTests(file);
    if (tests.length === 0) {
      console.log(`${file}: no tests found (add it to ${TEST_MAP}); skipped`);
      continue;
    }
    console.log(
      `${file}: ${mutants.length} mutants; tests: ${tests.join(" ")}`,
    );
    const width = String(mutants.length).length;
    const run = await workspace.runFile(
      file,
      tests,
      mutants,
      timeoutS,
      ({ mutant, outcome, ms }, done) => {
        const count = `[${String(done).padStart(width)}/${mutants.length}]`;
        console.log(
          `  ${count} ${outcome.padEnd(8)} ${mutantName(file, mutant)}` +
            `  (${duration(ms)})`,
        );
      },
    );
    console.log(summaryLine(run));
    if (run.error) console.log(run.error);
    runs.push(run);
    // Written after each file, so a long run stopped halfway keeps its part.
    if (flags.out) await Deno.writeTextFile(flags.out, report(runs));
  }
} finally {
  Deno.removeSignalListener("SIGINT", interrupted);
  await workspace.dispose();
}

console.log(`\n${report(runs)}`);
if (runs.some((run) => run.error)) Deno.exit(1);

/** The value of `--name` as a positive integer; exits on anything else. */
function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (Number.isInteger(n) && n > 0) return n;
  console.error(`--${name} takes a positive integer, not ${value}`);
  Deno.exit(2);
}

/** Whether `file` (relative to the root) is a file. */
async function exists(file: string): Promise<boolean> {
  try {
    return (await Deno.stat(join(ROOT, file))).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** At most `max` of `mutants`, spread evenly over the file. */
function spread(mutants: Mutant[], max: number | undefined): Mutant[] {
  if (max === undefined || mutants.length <= max) return mutants;
  return Array.from(
    { length: max },
    (_, i) => mutants[Math.floor(i * mutants.length / max)],
  );
}

/** Every `.ts` file under `dir`, sorted, relative to the root. */
async function sources(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await sources(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/** `tests/x/y_test.ts` first, then the other tests of `tests/x/`. */
async function mirrorTests(file: string): Promise<string[]> {
  const mirror = file.replace(/^src\//, "tests/").replace(/\.ts$/, "_test.ts");
  const dir = mirror.slice(0, mirror.lastIndexOf("/"));
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      if (entry.isFile && entry.name.endsWith("_test.ts")) {
        found.push(`${dir}/${entry.name}`);
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  found.sort();
  return found.includes(mirror)
    ? [mirror, ...found.filter((f) => f !== mirror)]
    : found;
}

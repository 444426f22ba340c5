/**
 * Runs mutants: each worker owns a copy of the tree in a temporary
 * directory, puts one mutant into its copy of the file, runs the file's test
 * files there (`deno test --no-check --fail-fast` under GNU `timeout`, which
 * kills the whole process group, servers the tests started included), and
 * puts the original text back. A test entry `tests/x_test.ts --filter TEXT`
 * runs only that file's tests whose names hold TEXT, in a `deno test` of its
 * own (Deno's `--filter` applies to every file of a run).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { applyMutant, type Mutant } from "./mutants.ts";

/** How a mutant ended: a test failed, none did, or the tests hung. */
export type Outcome = "killed" | "survived" | "timeout";

/** One mutant's outcome and how long its tests ran. */
export interface Result {
  /** The mutant. */
  readonly mutant: Mutant;
  /** How it ended. */
  readonly outcome: Outcome;
  /** Milliseconds its tests ran. */
  readonly ms: number;
}

/** The mutants of one file, run. */
export interface FileRun {
  /** Source file, relative to the root. */
  readonly file: string;
  /** Its original text. */
  readonly text: string;
  /** Test files run against each mutant. */
  readonly tests: readonly string[];
  /** Milliseconds of the tests on the unmutated file. */
  readonly baselineMs: number;
  /** Seconds after which each `deno test` of a mutant is killed, in order. */
  readonly timeoutS: readonly number[];
  /** Each mutant's outcome, in source order. */
  readonly results: readonly Result[];
  /** Milliseconds for the whole file, baseline included. */
  readonly ms: number;
  /** Why no mutant ran (the tests fail unmutated), if so. */
  readonly error?: string;
}

/** Permissions of `deno task test`. */
const PERMISSIONS = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-sys",
];
/** What `timeout` exits with when it had to stop the tests. */
const TIMED_OUT = new Set([124, 137]);
/** Entries not copied into a worker's tree. */
const NOT_COPIED = new Set([".git", "node_modules"]);
/** Longest wait for the unmutated tests. */
const BASELINE_TIMEOUT_S = 600;

/** Copies of the tree, one per worker, and the tests running in them. */
export class Workspace {
  readonly #root: string;
  readonly #temp: string;
  readonly #dirs: string[];
  readonly #running = new Set<Deno.ChildProcess>();
  /** Set by `dispose`: the copies are going, so no worker writes to them. */
  #disposed = false;

  private constructor(root: string, temp: string, dirs: string[]) {
    this.#root = root;
    this.#temp = temp;
    this.#dirs = dirs;
  }

  /** `workers` copies of the tree at `root` in a new temporary directory. */
  static async create(root: string, workers: number): Promise<Workspace> {
    const temp = await Deno.makeTempDir({ prefix: "mutate-" });
    const dirs = Array.from({ length: workers }, (_, i) => join(temp, `w${i}`));
    for (const dir of dirs) await copyTree(root, dir);
    return new Workspace(root, temp, dirs);
  }

  /**
   * Runs `tests` against each of `mutants` of `file` (after checking they
   * pass unmutated), calling `progress` as each mutant ends.
   */
  async runFile(
    file: string,
    tests: readonly string[],
    mutants: readonly Mutant[],
    timeoutS: number | undefined,
    progress: (result: Result, done: number) => void,
  ): Promise<FileRun> {
    const started = performance.now();
    const text = await Deno.readTextFile(join(this.#root, file));
    const groups = testGroups(tests);
    const baseline = await this.#test(
      this.#dirs[0],
      groups,
      groups.map(() => BASELINE_TIMEOUT_S),
    );
    const run = { file, text, tests, baselineMs: baseline.ms };
    if (baseline.code !== 0) {
      const error =
        `the tests fail on the unmutated file (exit ${baseline.code}):\n${
          baseline.output.split("\n").slice(-30).join("\n")
        }`;
      return { ...run, timeoutS: [], results: [], ms: baseline.ms, error };
    }
    // Each run of tests gets its own limit, so a mutant that hangs a fast
    // unit test is stopped in seconds even where a model test runs long.
    const limits = baseline.groupMs.map((ms) =>
      timeoutS ?? Math.ceil(3 * ms / 1000 + 10)
    );
    const results: Result[] = [];
    let next = 0;
    await Promise.all(this.#dirs.map(async (dir) => {
      const path = join(dir, file);
      while (next < mutants.length && !this.#disposed) {
        const mutant = mutants[next++];
        await Deno.writeTextFile(path, applyMutant(text, mutant));
        try {
          const { code, ms } = await this.#test(dir, groups, limits);
          if (this.#disposed) return; // stopped: not the mutant's doing
          const outcome = code === 0
            ? "survived"
            : TIMED_OUT.has(code)
            ? "timeout"
            : "killed";
          const result: Result = { mutant, outcome, ms };
          results.push(result);
          progress(result, results.length);
        } finally {
          if (!this.#disposed) await Deno.writeTextFile(path, text);
        }
      }
    }));
    results.sort((a, b) => a.mutant.start - b.mutant.start);
    const ms = performance.now() - started;
    return { ...run, timeoutS: limits, results, ms };
  }

  /** Stops the tests running (Ctrl-C) and removes the copies. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const child of this.#running) child.kill("SIGTERM");
    await Promise.allSettled([...this.#running].map((child) => child.status));
    await Deno.remove(this.#temp, { recursive: true });
  }

  /**
   * Runs `groups` in `dir`, one `deno test` each, stopping at the first
   * that fails, each killed past its `timeoutS`. Exit code, output, and
   * the milliseconds of each group run.
   */
  async #test(
    dir: string,
    groups: readonly TestGroup[],
    timeoutS: readonly number[],
  ): Promise<{ code: number; ms: number; groupMs: number[]; output: string }> {
    const started = performance.now();
    const groupMs: number[] = [];
    let output = "";
    for (const [i, group] of groups.entries()) {
      const groupStarted = performance.now();
      const run = await this.#deno(dir, group, timeoutS[i]);
      groupMs.push(performance.now() - groupStarted);
      output += run.output;
      if (run.code !== 0) {
        const ms = performance.now() - started;
        return { code: run.code, ms, groupMs, output };
      }
    }
    return { code: 0, ms: performance.now() - started, groupMs, output };
  }

  /** One `deno test` of `group` in `dir`, killed past `timeoutS`. */
  async #deno(
    dir: string,
    group: TestGroup,
    timeoutS: number,
  ): Promise<{ code: number; output: string }> {
    const filter = group.filter === undefined ? [] : ["--filter", group.filter];
    const child = new Deno.Command("timeout", {
      args: [
        "-k",
        "5",
        String(timeoutS),
        Deno.execPath(),
        "test",
        "--no-check",
        "--fail-fast",
        ...PERMISSIONS,
        ...filter,
        ...group.files,
      ],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#running.add(child);
    try {
      const { code, stdout, stderr } = await child.output();
      const decoder = new TextDecoder();
      return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
    } finally {
      this.#running.delete(child);
    }
  }
}

/** Test files run by one `deno test`, with its `--filter` if any. */
export interface TestGroup {
  readonly files: string[];
  readonly filter?: string;
}

const FILTERED = " --filter ";

/**
 * `tests` as `deno test` runs, in order: neighbouring plain files share a
 * run; an entry `file --filter TEXT` gets a run of its own.
 */
export function testGroups(tests: readonly string[]): TestGroup[] {
  const groups: TestGroup[] = [];
  let plain: string[] | undefined;
  for (const entry of tests) {
    const at = entry.indexOf(FILTERED);
    if (at === -1) {
      if (plain === undefined) groups.push({ files: plain = [] });
      plain.push(entry);
    } else {
      plain = undefined;
      const filter = entry.slice(at + FILTERED.length);
      groups.push({ files: [entry.slice(0, at)], filter });
    }
  }
  return groups;
}

/** Copies the tree at `from` to `to`, less {@link NOT_COPIED}. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (NOT_COPIED.has(entry.name)) continue;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) await copyTree(source, target);
    else if (entry.isSymlink) {
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.symlink(await Deno.readLink(source), target);
    } else await Deno.copyFile(source, target);
  }
}

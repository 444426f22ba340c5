import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertMatch,
} from "@std/assert";
import { Client } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import {
  CLI,
  collect,
  DENO_RUN,
  ROOT,
  runCli,
  tempDir,
} from "../helpers/server.ts";

const quiet = { log: (): void => {} };

/** `cli.ts collect ...` in a child process, its stderr watched live. */
class Collector implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #output: Promise<void>;
  #stdout = "";
  stderr = "";
  #waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [...DENO_RUN, CLI, "collect", ...args],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#output = Promise.all([
      collect(this.#child.stdout, (text) => this.#stdout += text),
      collect(this.#child.stderr, (text) => {
        this.stderr += text;
        this.#waiters.forEach((wake) => wake());
      }),
    ]).then(() => {});
  }

  /** Resolves once stderr matches `pattern` (fails after 15 s). */
  async waitFor(pattern: RegExp): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!pattern.test(this.stderr)) {
      assert(Date.now() < deadline, `no ${pattern} in stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, 200);
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.push(wake);
      });
      this.#waiters = [];
    }
  }

  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Waits for the exit; resolves to its code and stdout. */
  async done(): Promise<{ code: number; stdout: string }> {
    const { code } = await this.#child.status;
    await this.#output;
    return { code, stdout: this.#stdout };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.done();
  }
}

Deno.test("collect survives a server restart without losing samples", async () => {
  await using tmp = await tempDir();
  const dataDir = tmp.path;
  const first = await serve({ port: 0, dataDir, ...quiet });
  const port = first.port;
  await using collector = new Collector([
    "--interval=1s",
    "--count=4",
    "--prefix=palm",
    "--timeout=1",
    `--server=127.0.0.1:${port}`,
  ]);
  await collector.waitFor(/^sample 1: .* acknowledged/m);
  await first.close(); // the server goes down...
  await collector.waitFor(/^sample 2: .*server unreachable/m);
  await using second = await serve({ port, dataDir, ...quiet }); // ...and comes back
  const { code, stdout } = await collector.done();
  assertEquals(code, 0, collector.stderr);
  const acknowledged = Number(
    stdout.match(
      /^samples 4, acknowledged (\d+), rejected 0, dropped 0, not delivered 0\n$/,
    )?.[1],
  );
  await using client = new Client("127.0.0.1", second.port);
  const metrics = await client.get("*");
  // Everything acknowledged is there, across the restart.
  assertEquals(
    Object.values(metrics).reduce((n, points) => n + points.length, 0),
    acknowledged,
  );
  // Four samples, each stamped with one second for every metric.
  const seconds = metrics["palm.memory_bytes"]?.map(([t]) => t) ?? [];
  assertEquals(seconds.length, 4, JSON.stringify(metrics));
  assert(seconds.every((t, i) => i === 0 || t > seconds[i - 1]), `${seconds}`);
  // (cpu is a delta from a baseline taken before the first sample.)
  for (
    const key of [
      "palm.memory_percent",
      "palm.disk_percent",
      "palm.load1",
      "palm.cpu_percent",
    ]
  ) {
    assertEquals(metrics[key]?.map(([t]) => t), seconds, key);
  }
  // The values are this machine's: memory in bytes below its total, and
  // memory_percent the same figure in percent; disk and cpu in percent.
  const total = Deno.systemMemoryInfo().total;
  const percent = new Map(metrics["palm.memory_percent"]);
  for (const [t, bytes] of metrics["palm.memory_bytes"]) {
    assert(bytes > 0 && bytes < total, `memory ${bytes} of ${total}`);
    assertAlmostEquals(percent.get(t)!, (100 * bytes) / total, 0.01);
  }
  for (const key of ["palm.disk_percent", "palm.cpu_percent"]) {
    for (const [, value] of metrics[key]) {
      assert(value >= 0 && value <= 100, `${key} ${value}`);
    }
  }
});

Deno.test("collect stops on Ctrl-C after flushing, exit 0", async () => {
  await using server = await serve({ port: 0, ...quiet });
  await using collector = new Collector([
    "--interval=1s",
    "--prefix=palm",
    `--server=127.0.0.1:${server.port}`,
  ]);
  await collector.waitFor(/^sample 1: /m);
  collector.kill("SIGINT");
  const { code, stdout } = await collector.done();
  assertEquals(code, 0, collector.stderr);
  assertMatch(
    stdout,
    /^samples [1-9]\d*, acknowledged [1-9]\d*, rejected 0, dropped 0, not delivered 0\n$/,
  );
});

Deno.test("collect says once why network bytes are not sampled", async () => {
  await using server = await serve({ port: 0, ...quiet });
  const { code, stderr } = await runCli([
    "collect",
    "--interval=1s",
    "--count=1",
    `--server=127.0.0.1:${server.port}`,
  ]);
  assertEquals(code, 0);
  // The binary has no --allow-all, which Deno requires for /proc/net/dev.
  assertEquals(
    stderr.match(/network bytes per second are not sampled/g)?.length,
    1,
  );
});

Deno.test("demo serves, collects, and prints a table and a chart", async () => {
  const { code, stdout, stderr } = await runCli(["demo"]);
  assertEquals(code, 0, stderr);
  assertMatch(
    stderr,
    /^demo: server listening on 127\.0\.0\.1:\d+ \(in memory\)/,
  );
  // The Quick start's command warns of nothing: its help says how to add
  // network bytes.
  assert(!stderr.includes("not sampled"), stderr);
  assertMatch(stdout, /^KEY +TIME +TIMESTAMP +VALUE$/m);
  assertMatch(
    stdout,
    /^\S+\.memory_bytes +[▁▂▃▄▅▆▇█]{3} +min \d+ +max \d+ +last \d+ +\(3 points\)$/m,
  );
});

/** The names docs/cli.md lists under "What `collect` puts", prefix left out. */
async function documentedNames(): Promise<string[]> {
  const text = await Deno.readTextFile(`${ROOT}docs/cli.md`);
  return [...text.matchAll(/^\| `PREFIX\.([\w.]+)` +\|/gm)].map((m) => m[1]);
}

Deno.test("collect puts every name docs/cli.md lists, each ending in its unit", async () => {
  const names = await documentedNames();
  assertEquals(names.length, 7, `docs/cli.md lists ${names}`);
  for (const name of names) {
    assertMatch(name, /(_percent|_bytes|_per_second|load1)$/);
  }
  await using server = await serve({ port: 0, ...quiet });
  // -A: Deno reads /proc/net/dev only with all permissions.
  const { code, stderr } = await runCli([
    "collect",
    "--interval=1s",
    "--count=2",
    "--prefix=unit",
    `--server=127.0.0.1:${server.port}`,
  ], { permissions: ["-A"] });
  assertEquals(code, 0, stderr);
  await using client = new Client("127.0.0.1", server.port);
  const metrics = await client.get("*");
  assertEquals(
    Object.keys(metrics).sort(),
    names.map((name) => `unit.${name}`).sort(),
  );
  for (const [key, points] of Object.entries(metrics)) {
    assertEquals(points.length, 2, key);
  }
});

Deno.test("collect takes its first sample at once, not one interval later", async () => {
  await using server = await serve({ port: 0, ...quiet });
  const started = Math.floor(Date.now() / 1000);
  await using collector = new Collector([
    "--interval=1m",
    "--count=1",
    "--prefix=soon",
    `--server=127.0.0.1:${server.port}`,
  ]);
  // waitFor gives up after 15 s, well before the minute.
  await collector.waitFor(/^sample 1: 5 points; 5 acknowledged in all$/m);
  const { code } = await collector.done();
  const ended = Math.ceil(Date.now() / 1000);
  assertEquals(code, 0, collector.stderr);
  await using client = new Client("127.0.0.1", server.port);
  const [[second]] = (await client.get("soon.memory_bytes"))[
    "soon.memory_bytes"
  ];
  assert(second >= started && second <= ended, `${second} not in run`);
});

Deno.test("demo prints the documented names it can sample, read back from its server", async () => {
  const names = await documentedNames();
  const { code, stdout, stderr } = await runCli(["demo", "--once"]);
  assertEquals(code, 0, stderr);
  // The table of get '*': its KEY column, each key once.
  const keys = new Set(
    stdout.split("\n").map((line) => line.match(/^(\S+) +\d{4}-/)?.[1])
      .filter((key) => key !== undefined),
  );
  const prefix = [...keys][0]?.replace(/\.[^.]*$/, "") ?? "";
  // Without -A, network bytes are left out (its help says so).
  assertEquals(
    [...keys].sort(),
    names.filter((name) => !name.startsWith("net."))
      .map((name) => `${prefix}.${name}`).sort(),
  );
});

import { assert, assertEquals, assertMatch } from "@std/assert";
import denoJson from "../../deno.json" with { type: "json" };
import { runCli } from "../helpers/server.ts";

Deno.test("metrics --version prints the version of deno.json", async () => {
  const { code, stdout } = await runCli(["--version"]);
  assertEquals([code, stdout], [0, `metrics ${denoJson.version}\n`]);
});

Deno.test("metrics version and metrics help [COMMAND] are words for the flags", async () => {
  const version = await runCli(["version"]);
  assertEquals([version.code, version.stdout], [
    0,
    `metrics ${denoJson.version}\n`,
  ]);
  const help = await runCli(["help"]);
  assertEquals(help.code, 0);
  assertMatch(help.stdout, /^metrics .*\n\nUsage: metrics <command>/);
  const get = await runCli(["help", "get"]);
  assertEquals(get.code, 0);
  assertMatch(get.stdout, /^Usage: metrics get KEY/);
});

Deno.test("metrics --help lists the serve command and exits 0", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assertEquals(code, 0);
  assertMatch(stdout, /Usage: metrics <command>/);
  assertMatch(stdout, /\n {2}serve +run the metrics server/);
});

Deno.test("metrics serve --help describes every option and exits 0", async () => {
  const { code, stdout } = await runCli(["serve", "--help"]);
  assertEquals(code, 0);
  for (
    const option of [
      "--host",
      "--port",
      "--data",
      "--fsync ",
      "--fsync-interval",
      "--max-line-bytes",
      "--max-connections",
      "--idle-timeout",
      "--http-max-connections",
      "--http-max-connections-per-peer",
      "--http-head-timeout",
      "--http-idle-timeout",
      "--graphite",
    ]
  ) {
    assertMatch(stdout, new RegExp(`\n  ${option}`));
  }
});

Deno.test("bad usage exits 2 with a hint on stderr", async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /Usage: metrics <command>/],
    [["bogus"], /unknown command "bogus"/],
    [["serve", "--bogus"], /unknown option --bogus/],
    [["serve", "--port", "abc"], /--port expects a number/],
    [["serve", "--port", "70000"], /invalid --port 70000/],
    [["serve", "--fsync", "never"], /--fsync expects batch or interval/],
    [["serve", "--max-connections", "0"], /invalid --max-connections 0/],
    [
      ["serve", "--fsync-interval", "0"],
      /--fsync-interval expects a duration above 0/,
    ],
    [
      ["serve", "--fsync-interval", "1000000000"],
      /invalid --fsync-interval 1000000000/,
    ],
    [
      ["serve", "--idle-timeout", "soon"],
      /--idle-timeout expects a duration like 10s/,
    ],
    [
      ["serve", "--http-head-timeout", "5s"],
      /the --http-\.\.\. flags need --http/,
    ],
    [
      ["serve", "--port", "0", "--http", "0", "--http-max-connections", "0"],
      /invalid --http-max-connections 0/,
    ],
    [
      ["serve", "--port", "0", "--http", "0", "--http-idle-timeout", "0"],
      /--http-idle-timeout expects a duration above 0/,
    ],
    [["serve", "--graphite", "nope"], /--graphite expects \[HOST:\]PORT/],
    [["serve", "extra"], /unexpected argument "extra"/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" ") || "(no arguments)", async () => {
      const { code, stdout, stderr } = await runCli(args);
      assertEquals(code, 2);
      assertEquals(stdout, "");
      assertMatch(stderr, message);
    });
  }
});

Deno.test("every command's help aligns its option descriptions in one column", async () => {
  for (
    const name of ["put", "get", "import", "collect", "serve", "demo", "cert"]
  ) {
    const { stdout } = await runCli([name, "--help"]);
    const options = stdout.split("Options:\n")[1].split("\n\n")[0];
    const columns = new Set<number>();
    for (const line of options.split("\n")) {
      // A flag line: the description follows the flag after 2+ spaces.
      const flag = /^( {2}-\S*(?: \S+)*?) {2,}(?=\S)/.exec(line);
      if (flag) columns.add(flag[0].length);
    }
    assertEquals(columns.size, 1, `${name}: columns ${[...columns]}`);
  }
});

Deno.test("the tool's help names every exit code, Ctrl-C's 130 included, with no cut line", async () => {
  const { stdout } = await runCli(["--help"]);
  assertMatch(stdout, /130 stopped by Ctrl-C/);
  for (const line of stdout.split("\n")) {
    assert(!/ for a command's$/.test(line), `cut line: ${line}`);
  }
});

Deno.test("a global flag without its value says so, not 'unknown command'", async () => {
  for (const flag of ["--server", "--timeout"]) {
    const { code, stderr } = await runCli([flag]);
    assertEquals(code, 2);
    assertMatch(
      stderr,
      new RegExp(`^metrics: ${flag} needs a value, e\\.g\\. ${flag} `),
    );
  }
});

Deno.test("a mistyped command gets a 'did you mean'", async () => {
  const { code, stderr } = await runCli(["gett", "k"]);
  assertEquals(code, 2);
  assertMatch(stderr, /^metrics: unknown command "gett"; did you mean "get"\?/);
  const far = await runCli(["frobnicate"]);
  assertMatch(far.stderr, /^metrics: unknown command "frobnicate"\n/);
});

Deno.test("a bad $METRICS_SERVER is blamed on the variable, not on --server", async () => {
  const { code, stderr } = await runCli(["get", "k"], {
    env: { METRICS_SERVER: "bogus" },
  });
  assertEquals(code, 2);
  assertMatch(
    stderr,
    /^metrics: \$METRICS_SERVER expects HOST:PORT .* got "bogus"/,
  );
});

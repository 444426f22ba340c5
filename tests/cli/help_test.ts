import { assertEquals, assertMatch } from "@std/assert";
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

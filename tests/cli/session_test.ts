import { assert, assertEquals, assertMatch } from "@std/assert";
import { Client } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { CLI, DENO_RUN, ROOT, runCli, tempDir } from "../helpers/server.ts";
import { StubServer } from "../helpers/stub_server.ts";

const quiet = { log: (): void => {} };
const decoder = new TextDecoder();

Deno.test("import stopped with Ctrl-C prints its summary and exits 130", async () => {
  await using server = await serve({ port: 0, ...quiet });
  const child = new Deno.Command(Deno.execPath(), {
    args: [...DENO_RUN, CLI, "import", "-", "--pipeline", "1"]
      .concat(["--server", `127.0.0.1:${server.port}`]),
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode("a 1 1\nb 2 2\n"));
    // Stdin stays open, as when a person types: wait until both landed.
    await using client = new Client("127.0.0.1", server.port);
    for (let i = 0; i < 100; i++) {
      if (Object.keys(await client.get("*")).length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill("SIGINT");
    const { code, stdout, stderr } = await child.output();
    assertEquals(code, 130, decoder.decode(stderr));
    assertMatch(
      decoder.decode(stdout),
      /^acknowledged 2, rejected 0, not acknowledged 0, bad lines 0 in /,
    );
    assertMatch(decoder.decode(stderr), /^SIGINT: stopped after line 2\n$/);
  } finally {
    await writer.close().catch(() => {});
  }
});

Deno.test("--timeout takes a duration: 10s, 500ms, or bare seconds", async () => {
  await using server = await serve({ port: 0, ...quiet });
  const cases: [string, number][] = [["10s", 1], ["500ms", 2], ["3", 3]];
  for (const [timeout, value] of cases) {
    const { code, stderr } = await runCli([
      "put",
      "k",
      String(value),
      String(value),
      "--timeout",
      timeout,
      "--server",
      `127.0.0.1:${server.port}`,
    ]);
    assertEquals([code, stderr], [0, ""], timeout);
  }
  await using client = new Client("127.0.0.1", server.port);
  assertEquals(await client.get("k"), { k: [[1, 1], [2, 2], [3, 3]] });
});

Deno.test("--timeout bounds the wait for a server that never answers", async () => {
  // Read the put, never answer: the CLI gives up after --timeout, not after
  // its default of 10 s.
  await using server = new StubServer(async (conn) => {
    await conn.expectLine(/^put k 1\.0 1$/);
    await conn.expectEnd();
  });
  const cases: [string, number][] = [["500ms", 0.5], ["1", 1], ["1.5s", 1.5]];
  for (const [timeout, seconds] of cases) {
    const started = performance.now();
    const { code, stderr } = await runCli([
      "put",
      "k",
      "1",
      "1",
      "--timeout",
      timeout,
      "--server",
      `127.0.0.1:${server.port}`,
    ]);
    const waited = (performance.now() - started) / 1000;
    assertEquals(code, 1, stderr);
    assertMatch(stderr, new RegExp(`no answer from .* within ${seconds} s`));
    // Process start-up included; the default would wait 10 s.
    assert(
      waited >= seconds && waited < seconds + 6,
      `${timeout}: ${waited} s`,
    );
  }
});

Deno.test("serve on a foreign metrics.log says what is wrong once, without Error:", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/metrics.log`, "hello world\n");
  const { code, stderr } = await runCli(
    ["serve", "--port", "0", "--data", dir.path],
  );
  assertEquals(code, 1);
  assertMatch(
    stderr,
    /^metrics: cannot open the metrics data in .*: .*metrics\.log is not a metrics log; move it away\n/,
  );
  assert(!stderr.includes("Error:"), stderr);
  assertEquals(stderr.trimEnd().split("\n").length, 1);
});

Deno.test("deno task install puts a working metrics command in DENO_INSTALL_ROOT", async () => {
  await using root = await tempDir();
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["task", "install"],
    cwd: ROOT,
    env: { DENO_INSTALL_ROOT: root.path },
    stdin: "null",
  }).output();
  assertEquals(install.code, 0, decoder.decode(install.stderr));
  // The shim calls `deno`: put this one first on the PATH, and run it from
  // elsewhere, as a user would.
  const denoDir = Deno.execPath().replace(/\/[^/]+$/, "");
  const run = await new Deno.Command(`${root.path}/bin/metrics`, {
    args: ["--version"],
    cwd: root.path,
    env: { PATH: `${denoDir}:${Deno.env.get("PATH")}` },
    stdin: "null",
  }).output();
  assertEquals(run.code, 0, decoder.decode(run.stderr));
  assertMatch(decoder.decode(run.stdout), /^metrics \d+\.\d+\.\d+\n$/);
});

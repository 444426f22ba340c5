import { assertEquals, assertMatch } from "@std/assert";
import { StubServer } from "../helpers/stub_server.ts";
import { runCli, tempDir } from "../helpers/server.ts";

Deno.test("put without --allow-net names the flag at once and never connects", async () => {
  await using stub = new StubServer(() =>
    Promise.reject(new Error("the tool connected without permission"))
  );
  const started = performance.now();
  const { code, stdout, stderr } = await runCli(
    ["put", "a", "1", "1", "--server", `127.0.0.1:${stub.port}`],
    { permissions: [] },
  );
  assertEquals([code, stdout], [2, ""]);
  assertEquals(
    stderr,
    `metrics: no permission to connect to 127.0.0.1:${stub.port}: run deno with --allow-net (or --allow-net=127.0.0.1:${stub.port})\n`,
  );
  // No retries against a server that was never the problem.
  assertEquals(stub.accepted, 0);
  // One CLI start, no retry loop; a busy machine may take seconds to start.
  assertEquals(performance.now() - started < 20_000, true);
});

Deno.test("METRICS_SERVER unreadable without --allow-env: the flag is named, not ignored", async () => {
  const { code, stderr } = await runCli(["get", "k"], {
    permissions: ["--allow-net"],
    env: { METRICS_SERVER: "127.0.0.1:1" },
  });
  assertEquals(code, 2);
  assertEquals(
    stderr,
    "metrics: no permission to read $METRICS_SERVER: run deno with --allow-env=METRICS_SERVER, or give --server HOST:PORT\n",
  );
});

Deno.test("serve --data without --allow-write names the flag", async () => {
  await using dir = await tempDir();
  const { code, stderr } = await runCli(
    ["serve", "--port", "0", "--data", `${dir.path}/data`],
    { permissions: ["--allow-net", "--allow-read"] },
  );
  assertEquals(code, 2);
  assertMatch(stderr, /^metrics: .*write access.*--allow-write/);
  assertEquals(stderr.trimEnd().split("\n").length, 1);
});

Deno.test("serve without --allow-net names the flag", async () => {
  const { code, stderr } = await runCli(["serve", "--port", "0"], {
    permissions: [],
  });
  assertEquals(code, 2);
  assertMatch(stderr, /^metrics: .*net access.*--allow-net/);
});

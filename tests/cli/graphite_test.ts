/**
 * `metrics serve --graphite`: the carbon port as the command line opens
 * it, announced on stdout, and its lines readable on the protocol port.
 *
 * @module
 */

import { assertEquals, assertMatch } from "@std/assert";
import { Client } from "../../mod.ts";
import { CLI, DENO_RUN, ROOT } from "../helpers/server.ts";

Deno.test("metrics serve --graphite prints the carbon port, and the lines sent there are stored", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...DENO_RUN, CLI, "serve", "--port", "0", "--graphite", "0"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!/carbon plaintext on [^\s]+:\d+\n/.test(stdout)) {
    const { done, value } = await reader.read();
    if (done) break;
    stdout += value;
  }
  const port = Number(stdout.match(/listening on [^\s]+:(\d+)\n/)?.[1]);
  const carbonPort = Number(
    stdout.match(/carbon plaintext on 127\.0\.0\.1:(\d+)\n/)?.[1],
  );
  try {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: carbonPort,
    });
    await conn.write(new TextEncoder().encode("cli.carbon 2.5 1700000000\n"));
    conn.close();
    await using client = new Client("127.0.0.1", port, { timeout: 10 });
    const deadline = Date.now() + 10_000;
    let got = await client.get("cli.carbon");
    while (got["cli.carbon"] === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      got = await client.get("cli.carbon");
    }
    assertEquals(got, { "cli.carbon": [[1700000000, 2.5]] });
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
  }
  assertEquals((await child.status).code, 0);
  assertMatch(await stderr, /SIGTERM: shutting down/);
});

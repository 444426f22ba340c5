/**
 * A port in use, said in the words of the command line: the address, the
 * flag that chose it and what to do. Each test takes a real port with
 * `Deno.listen` and starts the real CLI process on it.
 */

import { assertEquals } from "@std/assert";
import { certFiles, certs, needsOpenssl } from "../helpers/certs.ts";
import { runCli } from "../helpers/server.ts";

/** The one line a busy port chosen by `flag` gets. */
function busy(port: number, flag: string): string {
  return `metrics: cannot listen on 127.0.0.1:${port} (${flag}): the address is in use (another server?); pick another port for ${flag} (0 picks a free one)\n`;
}

Deno.test("serve --port on a busy port names --port", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { code, stdout, stderr } = await runCli(
    ["serve", "--port", String(taken.addr.port)],
  );
  assertEquals(
    { code, stdout, stderr },
    { code: 1, stdout: "", stderr: busy(taken.addr.port, "--port") },
  );
});

Deno.test("serve --http on a busy port names --http, not the free --port", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { code, stdout, stderr } = await runCli(
    ["serve", "--port", "0", "--http", String(taken.addr.port)],
  );
  assertEquals(
    { code, stdout, stderr },
    { code: 1, stdout: "", stderr: busy(taken.addr.port, "--http") },
  );
});

Deno.test("serve --graphite on a busy port names --graphite", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { code, stdout, stderr } = await runCli(
    ["serve", "--port", "0", "--graphite", String(taken.addr.port)],
  );
  assertEquals(
    { code, stdout, stderr },
    { code: 1, stdout: "", stderr: busy(taken.addr.port, "--graphite") },
  );
});

Deno.test({
  name: "serve --plain-port on a busy port names --plain-port",
  ...needsOpenssl,
  async fn() {
    const { server: pair } = await certs();
    await using files = await certFiles({
      "cert.pem": pair.cert,
      "key.pem": pair.key,
    });
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { code, stdout, stderr } = await runCli([
      "serve",
      "--port",
      "0",
      "--tls-cert",
      files.path("cert.pem"),
      "--tls-key",
      files.path("key.pem"),
      "--plain-port",
      String(taken.addr.port),
    ]);
    assertEquals(
      { code, stdout, stderr },
      { code: 1, stdout: "", stderr: busy(taken.addr.port, "--plain-port") },
    );
  },
});

Deno.test("demo --http on a busy port names --http in one line", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { code, stdout, stderr } = await runCli(
    ["demo", "--once", "--http", String(taken.addr.port)],
  );
  assertEquals(
    { code, stdout, stderr },
    { code: 1, stdout: "", stderr: busy(taken.addr.port, "--http") },
  );
});

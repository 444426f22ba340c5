/**
 * TLS and the allow-list from the command line: `serve --tls-cert
 * --tls-key --plain-port --allow-from`, and `--tls`, `--ca FILE` and
 * `tls://HOST:PORT` on the client commands.
 */

import { assertEquals, assertMatch } from "@std/assert";
import { certFiles, certs, needsOpenssl } from "../helpers/certs.ts";
import { runCli, ServerProcess } from "../helpers/server.ts";

Deno.test({
  name:
    "cli tls: serve --tls-cert --tls-key answers put --ca, get via METRICS_SERVER=tls://, and keeps a local plain port",
  ...needsOpenssl,
  async fn() {
    const { server: pair, ca } = await certs();
    await using files = await certFiles({
      "cert.pem": pair.cert,
      "key.pem": pair.key,
      "ca.pem": ca,
    });
    await using server = await ServerProcess.start([
      "--tls-cert",
      files.path("cert.pem"),
      "--tls-key",
      files.path("key.pem"),
      "--plain-port",
      "0",
    ]);
    const put = await runCli([
      "put",
      "cli.tls",
      "1.5",
      "1150864247",
      "--server",
      `127.0.0.1:${server.port}`,
      "--ca",
      files.path("ca.pem"),
    ]);
    assertEquals(put.code, 0, put.stderr);
    const get = await runCli(["get", "cli.tls", "--ca", files.path("ca.pem")], {
      env: { METRICS_SERVER: `tls://localhost:${server.port}` },
    });
    assertEquals(get.code, 0, get.stderr);
    assertMatch(get.stdout, /cli\.tls.*1150864247\s+1\.5/);
    const plain = server.stderr.match(/plain TCP on 127\.0\.0\.1:(\d+)/);
    assertMatch(server.stderr, /^TLS on 127\.0\.0\.1:\d+; plain TCP on/m);
    const local = await runCli([
      "get",
      "cli.tls",
      "--server",
      `127.0.0.1:${plain?.[1]}`,
    ]);
    assertEquals(local.code, 0, local.stderr);
    assertMatch(local.stdout, /1150864247\s+1\.5/);
    // --tls without a CA trusts only the system's roots.
    const untrusted = await runCli([
      "get",
      "cli.tls",
      "--tls",
      "--server",
      `127.0.0.1:${server.port}`,
      "--timeout",
      "3",
    ]);
    assertEquals(untrusted.code, 1);
    assertMatch(untrusted.stderr, /signed by an unknown CA/);
  },
});

Deno.test({
  name:
    "cli tls: certificate files that cannot be read or do not match are one line and exit 1",
  ...needsOpenssl,
  async fn() {
    const { server: pair, otherHost } = await certs();
    await using files = await certFiles({
      "cert.pem": pair.cert,
      "other.key": otherHost.key,
    });
    const missing = await runCli([
      "serve",
      "--port",
      "0",
      "--tls-cert",
      files.path("none.pem"),
      "--tls-key",
      files.path("other.key"),
    ]);
    assertEquals(missing.code, 1);
    assertMatch(
      missing.stderr,
      /^metrics: cannot read --tls-cert \S+none\.pem: No such file or directory[^\n]*\n$/,
    );
    const mismatch = await runCli([
      "serve",
      "--port",
      "0",
      "--tls-cert",
      files.path("cert.pem"),
      "--tls-key",
      files.path("other.key"),
    ]);
    assertEquals(mismatch.code, 1);
    assertMatch(
      mismatch.stderr,
      /^metrics: the TLS key does not belong to the certificate \([^\n]*\)\n$/,
    );
  },
});

Deno.test("cli tls: bad TLS and allow-list usage exits 2 with the reason", async () => {
  for (
    const [args, message] of [
      [
        ["serve", "--tls-cert", "c.pem"],
        /give --tls-cert and --tls-key together/,
      ],
      [
        ["serve", "--allow-from", "10.1.0.0/8"],
        /did you mean 10\.0\.0\.0\/8\?/,
      ],
      [["serve", "--plain-port", "0"], /plainPort only applies with tls/],
      [
        ["get", "k", "--server", "tls://nohost"],
        /--server expects HOST:PORT or tls:\/\/HOST:PORT/,
      ],
    ] as const
  ) {
    const { code, stderr } = await runCli([...args]);
    assertEquals(code, 2, stderr);
    assertMatch(stderr, message);
  }
});

Deno.test("cli tls: an unreadable --ca file is one line and exit 1", async () => {
  const { code, stderr } = await runCli([
    "get",
    "k",
    "--ca",
    "/nonexistent/ca.pem",
  ]);
  assertEquals(code, 1);
  assertMatch(stderr, /^metrics: cannot read --ca \/nonexistent\/ca\.pem: /);
});

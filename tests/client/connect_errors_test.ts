/**
 * Connecting fails in ways no retry mends: an unknown host name and a
 * refused certificate fail at once, after one attempt, saying what to do;
 * addresses in messages are written as people write them.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { Client } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { certs, needsOpenssl } from "../helpers/certs.ts";
import { rejectsWith } from "../helpers/client_error.ts";
import { closedPort } from "../helpers/stub_server.ts";

Deno.test("an unknown host name fails after one attempt and says to check the name", async () => {
  // Resolving a name needs --allow-net for it, which the tests lack: the
  // client runs in its own process.
  const script = `
    import { Client } from "${new URL("../../mod.ts", import.meta.url)}";
    await using client = new Client("no-such-host.invalid", 8888, {
      retries: 5,
      retryDelay: 1, // five retries would take over a minute
    });
    const started = performance.now();
    const error = await client.put("k", 1).catch((e) => e);
    console.log(JSON.stringify({ kind: error.kind, message: error.message,
      ms: performance.now() - started }));`;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", script],
  }).output();
  const text = new TextDecoder();
  assertEquals(code, 0, text.decode(stderr));
  const { kind, message, ms } = JSON.parse(text.decode(stdout));
  assertEquals(kind, "connection");
  assert(ms < 10_000, `it was retried: ${ms} ms`);
  assertMatch(
    message,
    /^could not connect to no-such-host\.invalid:8888 \(1 attempt: /,
  );
  assert(message.endsWith("; check the host name"), message);
});

Deno.test("a host the process may not connect to fails after one attempt, naming the permission", async () => {
  await using client = new Client("example.invalid", 8888, {
    retries: 5,
    retryDelay: 1,
  });
  const error = await rejectsWith(client.put("k", 1), "connection");
  assertMatch(
    error.message,
    /^could not connect to example\.invalid:8888 \(1 attempt: Requires net access/,
  );
  assert(!error.message.includes("server is running"), error.message);
});

Deno.test("an IPv6 server is written in brackets in messages", async () => {
  const port = closedPort();
  await using client = new Client("::1", port, { retries: 0 });
  const error = await rejectsWith(client.put("k", 1), "connection");
  assert(error.message.includes(`[::1]:${port}`), error.message);
});

Deno.test({
  name:
    "a self-signed CA certificate used as the server's fails at once and says how to make a server certificate",
  ...needsOpenssl,
  async fn() {
    const { selfSigned } = await certs();
    await using server = await serve({
      port: 0,
      tls: selfSigned,
      log: () => {},
    });
    await using client = new Client("127.0.0.1", server.port, {
      tls: { caCerts: [selfSigned.cert] },
      retries: 5,
      retryDelay: 1,
    });
    const error = await rejectsWith(client.put("k", 1), "connection");
    assertMatch(
      error.message,
      /\(1 attempt: TLS: the server's certificate is a CA certificate \(CA:TRUE\)/,
    );
    assert(error.message.includes("sign a server certificate with that CA"));
    assertEquals(client.stats().reconnects, 0);
  },
});

Deno.test({
  name:
    "an unknown CA fails after one attempt, however many retries are allowed",
  ...needsOpenssl,
  async fn() {
    const { server: pair, otherCa } = await certs();
    await using server = await serve({ port: 0, tls: pair, log: () => {} });
    await using client = new Client("127.0.0.1", server.port, {
      tls: { caCerts: [otherCa] },
      retries: 5,
      retryDelay: 1,
    });
    const error = await rejectsWith(client.put("k", 1), "connection");
    assertMatch(
      error.message,
      /\(1 attempt: TLS: the server's certificate is signed by an unknown CA/,
    );
  },
});

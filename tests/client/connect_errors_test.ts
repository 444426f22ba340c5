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
  await using client = new Client("no-such-host.invalid", 8888, {
    retries: 5,
    retryDelay: 1, // five retries would take over a minute
  });
  const started = performance.now();
  const error = await rejectsWith(client.put("k", 1), "connection");
  assert(performance.now() - started < 10_000, "it was retried");
  assertMatch(
    error.message,
    /^could not connect to no-such-host\.invalid:8888 \(1 attempt: /,
  );
  assert(error.message.endsWith("; check the host name"), error.message);
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

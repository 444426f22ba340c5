/**
 * The client over TLS: verified connections, each certificate problem as a
 * `connection` error that names it, the wrong side of a TLS port, and
 * reconnect with resend through cuts in the encrypted stream.
 */

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
} from "@std/assert";
import { Client, ClientError } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import type { TlsCertificate } from "../../src/server/mod.ts";
import { certs, needsOpenssl } from "../helpers/certs.ts";
import { assertKind } from "../helpers/client_error.ts";
import { FaultProxy } from "../reliability/proxy.ts";

const quiet = (): void => {};

/** The error a first call gets when connecting to `port` fails. */
async function connectFailure(
  hostname: string,
  port: number,
  tls: boolean | { caCerts: string[] },
): Promise<ClientError> {
  await using client = new Client(hostname, port, {
    tls,
    retries: 0,
    timeout: 5,
  });
  const error = await client.put("k", 1).then(
    () => new Error("the put resolved"),
    (e) => e,
  );
  assertInstanceOf(error, ClientError);
  assertEquals(error.kind, "connection", error.message);
  return error;
}

/** A TLS server on a free port with `pair`, logging nothing. */
function tlsServer(pair: TlsCertificate) {
  return serve({ port: 0, tls: pair, log: quiet });
}

Deno.test({
  name:
    "client tls: puts and gets over a verified connection, by address and by name",
  ...needsOpenssl,
  async fn() {
    const { server: pair, ca } = await certs();
    await using server = await tlsServer(pair);
    for (const hostname of ["127.0.0.1", "localhost"]) {
      await using client = await Client.connect(hostname, server.port, {
        tls: { caCerts: [ca] },
        timeout: 5,
        maxInFlight: 16,
      });
      await Promise.all([
        client.put(`tls.${hostname}`, 0.5, { timestamp: 1 }),
        client.put(`tls.${hostname}`, 2, { timestamp: 2 }),
      ]);
      assertEquals(await client.get(`tls.${hostname}`), {
        [`tls.${hostname}`]: [[1, 0.5], [2, 2]],
      });
    }
  },
});

Deno.test({
  name:
    "client tls: a certificate from a CA it does not trust is a connection error naming the unknown CA",
  ...needsOpenssl,
  async fn() {
    const { server: pair, otherCa } = await certs();
    await using server = await tlsServer(pair);
    for (const tls of [{ caCerts: [otherCa] }, true]) {
      const error = await connectFailure("127.0.0.1", server.port, tls);
      assertMatch(
        error.message,
        /^could not connect to 127\.0\.0\.1:\d+ \(1 attempt: TLS: the server's certificate is signed by an unknown CA: trust that CA with the tls\.caCerts option \(--ca FILE on the command line\) \(invalid peer certificate: UnknownIssuer\)\)$/,
      );
    }
    // The server hears the client's alert a moment after the client gave up.
    for (let i = 0; i < 100; i++) {
      if (server.accessStats().tlsHandshakeFailures === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assertEquals(server.accessStats().tlsHandshakeFailures, 2);
  },
});

Deno.test({
  name:
    "client tls: a certificate for another host name is a connection error naming the host",
  ...needsOpenssl,
  async fn() {
    const { otherHost, ca } = await certs();
    await using server = await tlsServer(otherHost);
    const error = await connectFailure("127.0.0.1", server.port, {
      caCerts: [ca],
    });
    assertMatch(
      error.message,
      /TLS: the server's certificate is not valid for the host name "127\.0\.0\.1": connect by a name or address the certificate lists \(.*other\.example.*\)\)$/,
    );
  },
});

Deno.test({
  name:
    "client tls: an expired certificate is a connection error saying it expired",
  ...needsOpenssl,
  async fn() {
    const { expired, ca } = await certs();
    await using server = await tlsServer(expired);
    const error = await connectFailure("127.0.0.1", server.port, {
      caCerts: [ca],
    });
    assertMatch(
      error.message,
      /TLS: the server's certificate has expired: the server needs a new one \(invalid peer certificate: Expired\)\)$/,
    );
  },
});

Deno.test({
  name:
    "client tls: a TLS client on a plain-TCP port is told the server did not answer in TLS",
  ...needsOpenssl,
  async fn() {
    const { ca } = await certs();
    await using server = await serve({ port: 0, log: quiet });
    const error = await connectFailure("127.0.0.1", server.port, {
      caCerts: [ca],
    });
    assertMatch(
      error.message,
      /TLS: the server did not answer in TLS: is this a plain-TCP port\? connect without tls/,
    );
  },
});

Deno.test({
  name:
    "client tls: a plain client on a TLS port fails with a connection error saying to use tls",
  ...needsOpenssl,
  async fn() {
    const { server: pair } = await certs();
    await using server = await tlsServer(pair);
    await using client = new Client("127.0.0.1", server.port, {
      retries: 1,
      retryDelay: 0.01,
      timeout: 5,
    });
    const error = await client.put("k", 1).then(
      () => new Error("the put resolved"),
      (e) => e,
    );
    assertInstanceOf(error, ClientError);
    assertEquals(error.kind, "connection", error.message);
    assertMatch(
      error.message,
      /broke 2 times before an answer \(the server answered in TLS: connect with the tls option \(--tls, or METRICS_SERVER=tls:\/\/host:port\)\)/,
    );
  },
});

Deno.test({
  name:
    "client tls: requests cut off mid-record are resent on a new TLS connection, in order",
  ...needsOpenssl,
  async fn() {
    const { server: pair, ca } = await certs();
    await using server = await tlsServer(pair);
    // The first two connections break after the handshake, mid-requests.
    await using proxy = await FaultProxy.start({
      targetPort: server.port,
      faults: (index) => index < 2 ? { up: { cutAfter: 1500 } } : {},
    });
    await using client = new Client("127.0.0.1", proxy.port, {
      tls: { caCerts: [ca] },
      timeout: 10,
      maxInFlight: 256,
      retryDelay: 0.01,
    });
    const values = Array.from({ length: 200 }, (_, t) => t / 4);
    await Promise.all(
      values.map((v, t) => client.put("resent", v, { timestamp: t })),
    );
    assertEquals(await client.get("resent"), {
      resent: values.map((v, t) => [t, v]),
    });
    const stats = client.stats();
    assert(stats.resent > 0, "nothing was resent");
    assertEquals(proxy.stats().rstCuts, 2);
    assertEquals(stats.acknowledged, 201);
  },
});

Deno.test("client tls: an invalid tls option is refused before connecting", () => {
  for (const tls of [{ caCerts: "pem" }, { caCerts: [""] }, "yes"]) {
    const error = assertKind(
      // deno-lint-ignore no-explicit-any
      () => new Client("127.0.0.1", 1, { tls: tls as any }),
      "invalid_argument",
    );
    assertMatch(error.message, /invalid tls option/);
  }
});

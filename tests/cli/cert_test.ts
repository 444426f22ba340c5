/**
 * `metrics cert`: the files it writes make a server that a client trusting
 * its CA reaches over a real TLS connection, by the names it lists only.
 */

import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { Client, ClientError } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { subjectAltNames } from "../../src/cli/cert.ts";
import { needsOpenssl } from "../helpers/certs.ts";
import { runCli, tempDir } from "../helpers/server.ts";

const quiet = { log: (): void => {} };
const ALL = { permissions: ["-A"] };

/** `metrics cert --dir dir ...args` with every permission. */
async function cert(dir: string, ...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runCli(
    ["cert", "--dir", dir, ...args],
    ALL,
  );
  assertEquals([code, stderr], [0, ""]);
  return stdout;
}

Deno.test("subjectAltNames lists IP addresses as IP and the rest as DNS", () => {
  assertEquals(
    subjectAltNames(["localhost", "127.0.0.1", "::1", "metrics.example"]),
    "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:metrics.example",
  );
});

Deno.test({
  name:
    "metrics cert makes a certificate that a client trusting its CA reaches over TLS, by name and by address",
  ...needsOpenssl,
  async fn() {
    await using dir = await tempDir();
    const stdout = await cert(dir.path);
    assertMatch(stdout, /^wrote .*ca\.pem, .*ca\.key, .*cert\.pem, .*key\.pem/);
    const read = (name: string) => Deno.readTextFile(`${dir.path}/${name}`);
    await using server = await serve({
      port: 0,
      tls: { cert: await read("cert.pem"), key: await read("key.pem") },
      ...quiet,
    });
    const ca = await read("ca.pem");
    for (const [hostname, t] of [["localhost", 1], ["127.0.0.1", 2]] as const) {
      await using client = new Client(hostname, server.port, {
        tls: { caCerts: [ca] },
        timeout: 10,
        retries: 0,
      });
      await client.put("tls.k", t, { timestamp: t });
      assertEquals((await client.get("tls.k"))["tls.k"].at(-1), [t, t]);
    }
  },
});

Deno.test({
  name: "metrics cert --name: a name the certificate does not list is refused",
  ...needsOpenssl,
  async fn() {
    await using dir = await tempDir();
    await cert(dir.path, "--name", "localhost");
    const read = (name: string) => Deno.readTextFile(`${dir.path}/${name}`);
    await using server = await serve({
      port: 0,
      tls: { cert: await read("cert.pem"), key: await read("key.pem") },
      ...quiet,
    });
    await using client = new Client("127.0.0.1", server.port, {
      tls: { caCerts: [await read("ca.pem")] },
      timeout: 10,
      retries: 0,
    });
    await assertRejects(
      () => client.put("tls.k", 1, { timestamp: 1 }),
      ClientError,
      'not valid for the host name "127.0.0.1"',
    );
  },
});

Deno.test({
  name:
    "metrics cert never overwrites files: it exits 1 and leaves them as they were",
  ...needsOpenssl,
  async fn() {
    await using dir = await tempDir();
    await Deno.writeTextFile(`${dir.path}/key.pem`, "mine");
    const { code, stderr } = await runCli(["cert", "--dir", dir.path], ALL);
    assertEquals(code, 1);
    assertEquals(
      stderr,
      `metrics: key.pem already in ${dir.path}: not overwritten; pick another --dir\n`,
    );
    assertEquals(await Deno.readTextFile(`${dir.path}/key.pem`), "mine");
    const left = [];
    for await (const entry of Deno.readDir(dir.path)) left.push(entry.name);
    assertEquals(left, ["key.pem"]);
  },
});

Deno.test("metrics cert without --allow-run names the flag, exit 2, and writes nothing", async () => {
  await using dir = await tempDir();
  const { code, stderr } = await runCli(["cert", "--dir", `${dir.path}/new`]);
  assertEquals(code, 2);
  assertEquals(
    stderr,
    "metrics: no permission to run openssl: run deno with --allow-run=openssl (the command deno task install makes has it)\n",
  );
  assertEquals([...Deno.readDirSync(dir.path)], []);
});

/**
 * docs/server.md's openssl commands make a CA and a server certificate that
 * the server serves and the client trusts, by name and by address.
 */

import { assertEquals } from "@std/assert";
import { Client } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { needsOpenssl } from "../helpers/certs.ts";
import { tempDir } from "../helpers/server.ts";

const DOC = new URL("../../docs/server.md", import.meta.url);

Deno.test({
  name: "the documented openssl commands make a certificate the client accepts",
  ...needsOpenssl,
  async fn() {
    const doc = await Deno.readTextFile(DOC);
    const section = doc.slice(doc.indexOf("### Making a certificate"));
    const commands = /```sh\n([\s\S]*?)```/.exec(section)![1];
    await using dir = await tempDir();
    const run = await new Deno.Command("sh", {
      args: ["-ec", commands],
      cwd: dir.path,
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
    const read = (name: string) => Deno.readTextFile(`${dir.path}/${name}`);
    await using server = await serve({
      port: 0,
      log: () => {},
      tls: { cert: await read("cert.pem"), key: await read("key.pem") },
    });
    const ca = await read("ca.pem");
    for (const hostname of ["localhost", "127.0.0.1"]) {
      await using client = new Client(hostname, server.port, {
        tls: { caCerts: [ca] },
        timeout: 10,
        retries: 0,
      });
      await client.put("palm.cpu", 0.5, { timestamp: 1150864247 });
      assertEquals({ ...await client.get("palm.cpu") }, {
        "palm.cpu": [[1150864247, 0.5]],
      });
    }
  },
});

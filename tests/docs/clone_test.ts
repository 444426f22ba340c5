/**
 * README's way to use the library from a clone: a project next to the clone
 * names its files in an import map and runs the client against the server.
 */

import { assertEquals } from "@std/assert";
import { tempDir } from "../helpers/server.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("a project next to a clone imports @metrics/client and @metrics/client/server through README's import map", async () => {
  await using project = await tempDir();
  // README's deno.json, with the clone's path where README has ../metrics.
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const json = /```json\n([\s\S]*?)```/.exec(readme)![1]
    .replaceAll("../metrics/", `${ROOT}/`);
  await Deno.writeTextFile(`${project.path}/deno.json`, json);
  await Deno.writeTextFile(
    `${project.path}/main.ts`,
    `import { Client } from "@metrics/client";
import { serve } from "@metrics/client/server";
await using server = await serve({ port: 0, log: () => {} });
await using client = new Client("127.0.0.1", server.port, { timeout: 10 });
await client.put("palm.cpu", 0.5, { timestamp: 1150864247 });
console.log(JSON.stringify(await client.get("palm.cpu")));
`,
  );
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--no-lock",
      "main.ts",
    ],
    cwd: project.path,
  }).output();
  const text = new TextDecoder();
  assertEquals(code, 0, text.decode(stderr));
  assertEquals(text.decode(stdout), '{"palm.cpu":[[1150864247,0.5]]}\n');
});

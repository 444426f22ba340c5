import { assert, assertEquals, assertMatch } from "@std/assert";
import { serve } from "../../src/server/mod.ts";
import { CLI, DENO_RUN, tempDir } from "../helpers/server.ts";

/** util-linux `script` runs a command on a pseudo-terminal. */
const SCRIPT = "/usr/bin/script";
const hasScript = await Deno.stat(SCRIPT).then(() => true, () => false);

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

Deno.test({
  name: "import draws a progress bar when stderr is a terminal",
  ignore: !hasScript, // shown as ignored: no util-linux script here
  async fn() {
    await using server = await serve({ port: 0, log: () => {} });
    await using tmp = await tempDir();
    const file = `${tmp.path}/points.txt`;
    await Deno.writeTextFile(
      file,
      Array.from({ length: 5000 }, (_, i) => `k ${i} ${i}`).join("\n"),
    );
    const command = [Deno.execPath(), ...DENO_RUN, CLI, "import", file]
      .concat(["--pipeline", "16", "--server", `127.0.0.1:${server.port}`])
      .map(shellQuote).join(" ");
    const { code, stdout } = await new Deno.Command(SCRIPT, {
      args: ["-qec", command, "/dev/null"],
      stdin: "null",
    }).output();
    const screen = new TextDecoder().decode(stdout);
    assertEquals(code, 0, screen);
    assertMatch(screen, /\r\d+ points \[[#.]{30}\] \d+% \d+ points\/s/);
    // The bar is erased before the summary.
    assert(screen.includes("\r\x1b[Kacknowledged 5000, rejected 0"), screen);
  },
});

import { assert, assertEquals, assertMatch } from "@std/assert";
import { serve } from "../../src/server/mod.ts";
import { CLI, DENO_RUN, tempDir } from "../helpers/server.ts";
import { skipped } from "../helpers/skip.ts";

/** What the progress bar writes to erase its line. */
const ERASE_LINE = "\x1b[K";

/** util-linux `script` runs a command on a pseudo-terminal. */
const SCRIPT = "/usr/bin/script";
const noTerminal = skipped(
  "pseudo-terminal tests",
  await Deno.stat(SCRIPT).then(
    () => undefined,
    () => `${SCRIPT} is missing (install util-linux)`,
  ),
);

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * Imports `lines` from a file into a fresh server, on a pseudo-terminal;
 * resolves to the exit code and what the terminal received.
 */
async function importOnTerminal(
  lines: string[],
): Promise<{ code: number; screen: string }> {
  await using server = await serve({ port: 0, log: () => {} });
  await using tmp = await tempDir();
  const file = `${tmp.path}/points.txt`;
  await Deno.writeTextFile(file, lines.join("\n"));
  const command = [Deno.execPath(), ...DENO_RUN, CLI, "import", file]
    .concat(["--pipeline", "16", "--server", `127.0.0.1:${server.port}`])
    .map(shellQuote).join(" ");
  const { code, stdout } = await new Deno.Command(SCRIPT, {
    args: ["-qec", command, "/dev/null"],
    stdin: "null",
  }).output();
  return { code, screen: new TextDecoder().decode(stdout) };
}

Deno.test({
  name: "import warnings get lines of their own, never the progress bar's",
  ignore: noTerminal,
  async fn() {
    // A bad line every 1,000: some come while the bar is drawn.
    const { code, screen } = await importOnTerminal(
      Array.from(
        { length: 20_000 },
        (_, i) => i % 1000 === 999 ? `bad ${i} x` : `k ${i} ${i}`,
      ),
    );
    assertEquals(code, 2, screen);
    assertMatch(screen, /points\/s/); // the bar was drawn
    // What a terminal shows of each line: the text after its last \r.
    const shown = screen.split("\r\n").map((line) => line.split("\r").at(-1)!);
    const warnings = shown.filter((line) => /line \d+:/.test(line));
    assertEquals(warnings.length, 20, screen);
    for (const line of warnings) {
      assertMatch(line.replace(ERASE_LINE, ""), /^line \d+: timestamp "x"/);
    }
  },
});

Deno.test({
  name: "import draws a progress bar when stderr is a terminal",
  ignore: noTerminal,
  async fn() {
    const { code, screen } = await importOnTerminal(
      Array.from({ length: 5000 }, (_, i) => `k ${i} ${i}`),
    );
    assertEquals(code, 0, screen);
    assertMatch(screen, /\r\d+ points \[[#.]{30}\] \d+% \d+ points\/s/);
    // The bar is erased before the summary.
    assert(screen.includes("\r\x1b[Kacknowledged 5000, rejected 0"), screen);
  },
});

Deno.test({
  name:
    "demo on a terminal keeps serving until Ctrl-C, numbers samples on, and says what it did",
  ignore: noTerminal,
  async fn() {
    const command = [Deno.execPath(), ...DENO_RUN, CLI, "demo"].map(shellQuote)
      .join(" ");
    const child = new Deno.Command(SCRIPT, {
      args: ["-qec", command, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    let screen = "";
    const reading = (async () => {
      for await (
        const text of child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        screen += text;
      }
    })();
    const deadline = Date.now() + 30_000;
    while (!screen.includes("sample 5:") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("\x03")); // Ctrl-C
    await writer.close();
    const { code } = await child.status;
    await reading;
    assertEquals(code, 130, screen);
    assertMatch(screen, /Ctrl-C to stop/);
    assertMatch(screen, /sample 4: /); // numbering goes on after sample 3
    assertMatch(
      screen,
      /demo: stopped after \d+ samples; \d+ points acknowledged/,
    );
    assert(!screen.includes("not sampled"), screen); // no warning
  },
});

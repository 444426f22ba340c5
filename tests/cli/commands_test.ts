import { assert, assertEquals, assertMatch } from "@std/assert";
import { Client } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { closedPort, StubServer } from "../helpers/stub_server.ts";
import { runCli } from "../helpers/server.ts";

const quiet = { log: (): void => {} };

/** A server on a free port, with the CLI's `--server` flag for it. */
async function server(): Promise<
  { port: number; flag: string[] } & AsyncDisposable
> {
  const s = await serve({ port: 0, ...quiet });
  return {
    port: s.port,
    flag: ["--server", `127.0.0.1:${s.port}`],
    [Symbol.asyncDispose]: () => s.close(),
  };
}

async function stored(
  port: number,
  key = "*",
): Promise<Record<string, [number, number][]>> {
  await using client = new Client("127.0.0.1", port);
  return { ...await client.get(key) };
}

/** No test output may carry colour: none of it goes to a terminal. */
function assertPlain(...texts: string[]): void {
  for (const text of texts) {
    assert(!text.includes("\x1b["), JSON.stringify(text));
  }
}

Deno.test("put stores one point and exits 0", async () => {
  await using s = await server();
  const { code, stdout, stderr } = await runCli([
    "put",
    "palm.cpu",
    "0.5",
    "1150864247",
    ...s.flag,
  ]);
  assertEquals([code, stdout, stderr], [0, "", ""]);
  assertEquals(await stored(s.port), { "palm.cpu": [[1150864247, 0.5]] });
});

Deno.test("put without a timestamp stores the current second", async () => {
  await using s = await server();
  const before = Math.floor(Date.now() / 1000);
  assertEquals((await runCli(["put", "1e3", "2", ...s.flag])).code, 0);
  // The key stays text: "1e3" is not turned into 1000.
  const [[ts, value]] = (await stored(s.port))["1e3"];
  assertEquals(value, 2);
  assert(ts >= before && ts <= Math.floor(Date.now() / 1000) + 1);
});

Deno.test("put takes a negative value, not a flag", async () => {
  await using s = await server();
  assertEquals((await runCli(["put", "temp.c", "-5", "1", ...s.flag])).code, 0);
  assertEquals(
    (await runCli(["put", "temp.c", "-.5", "2", ...s.flag])).code,
    0,
  );
  assertEquals(await stored(s.port), { "temp.c": [[1, -5], [2, -0.5]] });
});

Deno.test("the server comes from --server before the command or METRICS_SERVER", async () => {
  await using s = await server();
  const address = `127.0.0.1:${s.port}`;
  assertEquals(
    (await runCli(["--server", address, "put", "a", "1", "1"])).code,
    0,
  );
  assertEquals(
    (await runCli(["put", "b", "2", "2"], { env: { METRICS_SERVER: address } }))
      .code,
    0,
  );
  assertEquals(await stored(s.port), { a: [[1, 1]], b: [[2, 2]] });
});

Deno.test("bad usage and bad input exit 2 with one line on stderr", async (t) => {
  const cases: [string[], RegExp][] = [
    [["put", "k"], /expected KEY VALUE \[TIMESTAMP\]/],
    [["put", "k", "abc"], /VALUE must be a number/],
    [["put", "k", "1", "1.5"], /timestamp "1\.5" is not whole Unix seconds/],
    [
      ["put", "palm.cpu", "5", "1150864247000"],
      /1150864247000 is past year 9999: it looks like milliseconds; give whole Unix seconds \(1150864247\)/,
    ],
    [
      ["put", "*", "1", "--server", `127.0.0.1:${closedPort()}`],
      /invalid put key "\*"/,
    ],
    [["get"], /expected one KEY/],
    [["get", "k", "--format", "xml"], /--format expects table, json, csv/],
    [["get", "k", "--server", "nohost"], /--server expects HOST:PORT/],
    [["get", "k", "--timeout", "0"], /--timeout expects a duration above 0/],
    [
      ["get", "k", "--timeout", "soon"],
      /--timeout expects a duration like 10s/,
    ],
    [
      ["get", "k", "--chart", "--format", "csv"],
      /--chart draws sparklines for people; it takes no --format/,
    ],
    [["import", "/no/such/file"], /cannot read \/no\/such\/file/],
    [["import", "--pipeline", "0"], /--pipeline expects a whole number/],
    [["collect", "--interval", "soon"], /--interval expects a duration/],
    [
      ["collect", "--interval", "500ms"],
      /--interval must be at least 1s, got "500ms": the server keeps one value per key and second/,
    ],
    [
      ["collect", "--count", "-1"],
      /--count expects a whole number above 0|unknown option/,
    ],
    [["demo", "extra"], /unexpected argument "extra"/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, stdout, stderr } = await runCli(args);
      assertEquals(code, 2, stderr);
      assertEquals(stdout, "");
      assertMatch(stderr, message);
      assertPlain(stderr);
    });
  }
});

Deno.test("a server that is down: exit 1 and one clear line, no stack trace", async () => {
  const { code, stdout, stderr } = await runCli([
    "get",
    "k",
    "--server",
    `127.0.0.1:${closedPort()}`,
  ]);
  assertEquals([code, stdout], [1, ""]);
  assertMatch(
    stderr,
    /^metrics: could not connect to 127\.0\.0\.1:\d+ .*check that the server is running/,
  );
  assertEquals(stderr.trimEnd().split("\n").length, 1);
});

async function seeded(): Promise<
  { port: number; flag: string[] } & AsyncDisposable
> {
  const s = await server();
  await using client = new Client("127.0.0.1", s.port);
  await client.put("palm.cpu", 0.5, { timestamp: 1150864247 });
  await client.put("palm.cpu", 2, { timestamp: 1150864248 });
  await client.put("eardrum.memory", 4200000, { timestamp: 1503320872 });
  return s;
}

Deno.test("get prints a table with ISO time and raw seconds by default", async () => {
  await using s = await seeded();
  const { code, stdout, stderr } = await runCli(["get", "*", ...s.flag]);
  assertEquals([code, stderr], [0, ""]);
  assertEquals(
    stdout,
    "KEY             TIME                  TIMESTAMP     VALUE\n" +
      "palm.cpu        2006-06-21T04:30:47Z  1150864247      0.5\n" +
      "palm.cpu        2006-06-21T04:30:48Z  1150864248        2\n" +
      "eardrum.memory  2017-08-21T13:07:52Z  1503320872  4200000\n",
  );
});

Deno.test("get --format json and csv are for scripts", async () => {
  await using s = await seeded();
  const json = await runCli(["get", "palm.cpu", "--format", "json", ...s.flag]);
  assertEquals(JSON.parse(json.stdout), {
    "palm.cpu": [[1150864247, 0.5], [1150864248, 2]],
  });
  const csv = await runCli(["get", "palm.cpu", "--format=csv", ...s.flag]);
  assertEquals(
    csv.stdout,
    "key,time,timestamp,value\npalm.cpu,2006-06-21T04:30:47Z,1150864247,0.5\npalm.cpu,2006-06-21T04:30:48Z,1150864248,2\n",
  );
  assertPlain(json.stdout, csv.stdout);
});

Deno.test("get --chart draws a sparkline per series", async () => {
  await using s = await seeded();
  const { code, stdout } = await runCli(["get", "*", "--chart", ...s.flag]);
  assertEquals(code, 0);
  assertMatch(
    stdout,
    /^palm\.cpu +▁█ +min 0\.5 +max 2 +last 2 +\(2 points\)$/m,
  );
  assertMatch(stdout, /^eardrum\.memory +▄ +min 4200000/m);
});

Deno.test("get of an unknown key says there are no points", async () => {
  await using s = await server();
  assertEquals(
    (await runCli(["get", "nothing", ...s.flag])).stdout,
    "(no points)\n",
  );
});

const IMPORT = [
  "palm.cpu 0.5 1150864247",
  "palm.cpu 2.0 1150864248",
  "",
  "palm.cpu abc 1150864249", // line 4: bad value
  "eardrum.cpu\t3.0\t1150864250",
  "just-a-key", // line 6: too few fields
  "eardrum.cpu 4.0 1150864251 extra", // line 7: too many fields
  "eardrum.memory 4200000 1503320872",
].join("\n") + "\n";

Deno.test("import reports bad lines by number, stores the rest and exits 2", async () => {
  await using s = await server();
  const file = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    await Deno.writeTextFile(file, IMPORT);
    const { code, stdout, stderr } = await runCli(["import", file, ...s.flag]);
    assertEquals(code, 2);
    assertMatch(
      stdout,
      /^acknowledged 4, rejected 0, not acknowledged 0, bad lines 3 \(lines 4, 6, 7\) in [\d.]+ s \(\d+ points\/s\)\n$/,
    );
    assertEquals(stderr.trimEnd().split("\n").map((l) => l.split(":")[0]), [
      "line 4",
      "line 6",
      "line 7",
    ]);
    assertEquals(await stored(s.port), {
      "palm.cpu": [[1150864247, 0.5], [1150864248, 2]],
      "eardrum.cpu": [[1150864250, 3]],
      "eardrum.memory": [[1503320872, 4200000]],
    });
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("import from stdin with every line good exits 0", async () => {
  await using s = await server();
  const lines = Array.from({ length: 2000 }, (_, i) => `seq ${i} ${1000 + i}`)
    .join("\n");
  const { code, stdout } = await runCli([
    "import",
    "-",
    "--pipeline",
    "64",
    ...s.flag,
  ], { stdin: lines });
  assertEquals(code, 0);
  assertMatch(
    stdout,
    /^acknowledged 2000, rejected 0, not acknowledged 0, bad lines 0 in/,
  );
  assertEquals(await stored(s.port), {
    seq: Array.from({ length: 2000 }, (_, i) => [1000 + i, i]),
  });
});

Deno.test("import counts points the server rejected, with their line numbers, and exits 1", async () => {
  await using stub = new StubServer((conn) =>
    conn.respond((line) =>
      line.startsWith("put bad") ? "error\nwrong command\n\n" : "ok\n\n"
    )
  );
  const { code, stdout, stderr } = await runCli(
    ["import", "-", "--server", `127.0.0.1:${stub.port}`],
    { stdin: "good 1 1\nbad 2 2\ngood 3 3\nbad 4 4\n" },
  );
  assertEquals(code, 1);
  assertMatch(
    stdout,
    /^acknowledged 2, rejected 2 \(lines 2, 4\), not acknowledged 0, bad lines 0/,
  );
  assertMatch(stderr, /^line 2: server rejected the request: wrong command/m);
  // Every line went out as its put, in order.
  assertEquals(
    stub.conns.map((conn) => conn.received).join(""),
    "put good 1.0 1\nput bad 2.0 2\nput good 3.0 3\nput bad 4.0 4\n",
  );
});

Deno.test("import stops with exit 1 when the server cannot be reached, and says nothing was acknowledged", async () => {
  const { code, stdout, stderr } = await runCli(
    ["import", "-", "--server", `127.0.0.1:${closedPort()}`, "--timeout", "2s"],
    { stdin: "a 1 1\nb 2 2\n" },
  );
  assertEquals(code, 1);
  // Nothing reached the server: no "sent" count pretends otherwise.
  assertMatch(stdout, /^acknowledged 0, rejected 0, not acknowledged 2,/);
  assert(!stdout.includes("sent"), stdout);
  assertMatch(stderr, /^stopped at line 1: could not connect/m);
});

Deno.test("help for the tool and each command, with examples", async () => {
  const tool = await runCli(["--help"]);
  for (
    const name of ["put", "get", "import", "collect", "serve", "demo", "cert"]
  ) {
    assertMatch(tool.stdout, new RegExp(`\n  ${name} `));
    const { code, stdout } = await runCli([name, "--help"]);
    assertEquals(code, 0);
    assertMatch(stdout, new RegExp(`^Usage: metrics ${name}`));
    assertMatch(stdout, /Examples?:\n {2}metrics /);
  }
});

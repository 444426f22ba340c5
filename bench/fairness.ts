/**
 * Fairness: how long a TCP `put` waits while others make the server work.
 * A prober puts one point at a time on its own connection (a pause of
 * 10 ms between puts, from its own thread) against a `metrics serve
 * --http` process:
 *
 * - idle, for the floor;
 * - during a burst of 150 concurrent `/api/series?points=10000` of one
 *   5M-point key (1M with `--quick`);
 * - during 20 pipelined `get *` over 1,000 keys of 2,000 points each
 *   (5 over 500-point keys with `--quick`);
 * - during a burst of 100 concurrent `/api/keys` that visit 1,000,000
 *   one-point keys each (200,000 with `--quick`).
 *
 * The slowest put of each is held to 250 ms. Run alone
 * (`deno run -A bench/fairness.ts [--json] [--quick]`) or from
 * `bench/main.ts`.
 *
 * @module
 */

import type { ServerProcess } from "../tests/helpers/server.ts";
import {
  bodyOf,
  getRequest,
  rawHttp,
  statusOf,
} from "../tests/helpers/http.ts";
import {
  answerOf,
  fill,
  prober,
  readAnswers,
  sendAll,
  startServer,
} from "../tests/reliability/prober.ts";
import type { Figure } from "./main.ts";

const QUICK = Deno.args.includes("--quick");
const BIG = QUICK ? 1_000_000 : 5_000_000;
const BURST = 150;
const PER_KEY = QUICK ? 500 : 2000;
const READS = QUICK ? 5 : 20;
const TARGET_MS = 250;
const MANY_KEYS = QUICK ? 200_000 : 1_000_000;
const KEYS_BURST = 100;
/** A match few of the `k.N` keys hold: each request visits every key. */
const RARE = "k.99999";

/** The prober's figure while `load` runs, against the idle round trip. */
async function during(
  server: ServerProcess,
  idleMs: number,
  name: string,
  load: () => Promise<unknown>,
): Promise<Omit<Figure, "group">> {
  const probe = await prober(server.port);
  const failure = await load().then(() => undefined, (error) => error);
  const { worstMs: worst, medianMs, count } = await probe.stop();
  if (failure !== undefined) throw failure;
  console.error(
    `fairness: ${name}: ${count} puts, median ${
      medianMs.toFixed(2)
    } ms, slowest ${worst.toFixed(0)} ms`,
  );
  return {
    name,
    value: worst,
    unit: "ms",
    ratio: worst / idleMs,
    floor: "idle put",
    target: `under ${TARGET_MS} ms`,
    met: worst < TARGET_MS,
  };
}

/** Every figure of this file. */
export async function fairnessFigures(): Promise<Omit<Figure, "group">[]> {
  await using server = await startServer([
    "--http",
    "0",
    "--http-max-connections-per-peer",
    "256",
    "--max-keys",
    String(2 * MANY_KEYS),
  ]);
  const idle = await prober(server.port);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idleMs = (await idle.stop()).medianMs;
  const figures: Omit<Figure, "group">[] = [{
    name: "TCP put round trip, idle server (median)",
    value: idleMs,
    unit: "ms",
    ratio: 1,
    floor: "idle put",
  }];
  // get * first, while the store holds only these keys.
  const keys = Array.from({ length: 1000 }, (_, k) => `mid.${k}`);
  await fill(server.port, keys, PER_KEY);
  figures.push(
    await during(
      server,
      idleMs,
      `slowest TCP put during ${READS} x get * of 1,000 keys x ${PER_KEY} points`,
      async () => {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: server.port,
        });
        try {
          await sendAll(conn, "get *\n".repeat(READS));
          await readAnswers(conn, answerOf(["probe", ...keys], PER_KEY), READS);
        } finally {
          conn.close();
        }
      },
    ),
  );
  await fill(server.port, ["big"], BIG);
  figures.push(
    await during(
      server,
      idleMs,
      `slowest TCP put during ${BURST} x /api/series of ${BIG / 1e6}M points`,
      async () => {
        const answers = await Promise.all(
          Array.from(
            { length: BURST },
            () =>
              rawHttp(
                server.httpPort!,
                getRequest("/api/series?key=big&points=10000"),
              ),
          ),
        );
        // Read back: value i at second i, so the last bucket's max is BIG - 1.
        const served = answers.find(({ text }) => statusOf(text) === 200);
        const body = JSON.parse(bodyOf(served?.text ?? "{}"));
        if (body.count !== BIG || body.max?.at(-1) !== BIG - 1) {
          throw new Error(
            `/api/series read back ${
              JSON.stringify(body.count)
            } points of ${BIG}`,
          );
        }
      },
    ),
  );
  const many = Array.from({ length: MANY_KEYS }, (_, k) => `k.${k}`);
  await fill(server.port, many, 1);
  const matching = many.filter((key) => key.includes(RARE)).length;
  figures.push(
    await during(
      server,
      idleMs,
      `slowest TCP put during ${KEYS_BURST} x /api/keys over ${
        MANY_KEYS / 1e6
      }M keys`,
      async () => {
        const answers = await Promise.all(
          Array.from(
            { length: KEYS_BURST },
            () =>
              rawHttp(
                server.httpPort!,
                getRequest(`/api/keys?match=${RARE}`),
              ),
          ),
        );
        // Read back: every key was stored, so every match is counted.
        const served = answers.find(({ text }) => statusOf(text) === 200);
        const total = JSON.parse(bodyOf(served?.text ?? "{}")).total;
        if (total !== matching) {
          throw new Error(
            `/api/keys matched ${total} keys, ${matching} stored`,
          );
        }
      },
    ),
  );
  return figures;
}

if (import.meta.main) {
  const figures = await fairnessFigures();
  if (Deno.args.includes("--json")) console.log(JSON.stringify(figures));
  else {
    for (const f of figures) {
      console.log(`${f.name}: ${f.value.toFixed(1)} ${f.unit}`);
    }
  }
}

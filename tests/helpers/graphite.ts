/**
 * Starts and stops the real Graphite of Debian's packages for tests: a
 * carbon-cache 1.1.7 (`graphite-carbon`) with a private config and
 * storage folder, writing whisper files at a fixed step, and graphite-web
 * 1.1.8 (`graphite-web`) under Django's development server with its own
 * settings module and sqlite database, reading those files. Each listens
 * on free ports of 127.0.0.1. Also the path of collectd (`collectd-core`).
 *
 * @module
 */

import { skipped } from "./skip.ts";

/** Debian's Python, which the graphite packages are installed for. */
export const PYTHON = "/usr/bin/python3";
/** carbon-cache's script (`graphite-carbon`). */
export const CARBON_CACHE = "/usr/bin/carbon-cache";
/** collectd's daemon (`collectd-core`). */
export const COLLECTD = "/usr/sbin/collectd";
/** Where graphite-web's Python package lives (`graphite-web`). */
const GRAPHITE_WEB = "/usr/lib/python3/dist-packages/graphite/settings.py";

function missing(paths: readonly string[], what: string): string | undefined {
  for (const path of paths) {
    try {
      Deno.statSync(path);
    } catch {
      return `${path} is missing (install Debian's ${what}; .ci/run does)`;
    }
  }
  return undefined;
}

/** Why the tests against carbon and graphite-web are skipped, if they are. */
export const GRAPHITE_SKIP_REASON: string | undefined = missing(
  [PYTHON, CARBON_CACHE, GRAPHITE_WEB],
  "graphite-carbon and graphite-web packages",
);

/** Why the collectd tests are skipped, if they are. */
export const COLLECTD_SKIP_REASON: string | undefined = missing(
  [COLLECTD, "/usr/share/collectd/types.db"],
  "collectd-core package",
);

/** How long each process may take to start listening. */
const START_TIMEOUT_MS = 60_000;

/** A free port of 127.0.0.1, picked then released. */
export function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = probe.addr;
  probe.close();
  return port;
}

/** A child process whose output is kept for error messages. */
export class Child {
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  #output = "";
  #stopped = false;

  constructor(command: string, args: string[], env: Record<string, string>) {
    this.#child = new Deno.Command(command, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        this.#output = (this.#output + text).slice(-50_000);
      }
    };
    this.#drained = Promise.all([
      collect(this.#child.stdout),
      collect(this.#child.stderr),
    ]).then(() => {});
  }

  /** What it printed so far (the last 50,000 characters). */
  get output(): string {
    return this.#output;
  }

  /** Its exit status, once it exits. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#child.status;
  }

  /** Stops it with `signal` (SIGKILL after 10 s) and waits. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      this.#child.kill(signal);
    } catch {
      // Exited already.
    }
    const killer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }, 10_000);
    await this.#child.status;
    clearTimeout(killer);
    await this.#drained;
  }
}

/** Waits until `ready()` resolves true, or fails after the start timeout. */
export async function waitFor(
  what: string,
  ready: () => Promise<boolean>,
  output: () => string,
  timeoutMs = START_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${what} not ready within ${timeoutMs} ms: ${output().slice(-3000)}`,
  );
}

async function listening(port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.close();
  return true;
}

/** Options of {@link RealGraphite.start}. */
export interface RealGraphiteOptions {
  /** The whisper schema's retentions, e.g. `10s:30d`. */
  readonly retentions: string;
}

/**
 * A carbon-cache and a graphite-web over one private storage folder;
 * `await using` stops both and removes the folder.
 */
export class RealGraphite implements AsyncDisposable {
  /** carbon's plaintext port. */
  readonly carbonPort: number;
  /** graphite-web's base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly #dir: string;
  readonly #children: Child[] = [];
  readonly #http = Deno.createHttpClient({});

  private constructor(dir: string, carbonPort: number, webPort: number) {
    this.#dir = dir;
    this.carbonPort = carbonPort;
    this.url = `http://127.0.0.1:${webPort}`;
  }

  /** Starts carbon-cache, then graphite-web (with its database made). */
  static async start(options: RealGraphiteOptions): Promise<RealGraphite> {
    const dir = await Deno.makeTempDir({ prefix: "metrics-graphite-" });
    const graphite = new RealGraphite(dir, freePort(), freePort());
    try {
      await graphite.#startCarbon(options);
      await graphite.#startWeb();
    } catch (error) {
      await graphite[Symbol.asyncDispose]();
      throw error;
    }
    return graphite;
  }

  async #startCarbon(options: RealGraphiteOptions): Promise<void> {
    const dir = this.#dir;
    for (const sub of ["whisper", "log", "pid", "conf"]) {
      await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
    }
    await Deno.writeTextFile(
      `${dir}/conf/carbon.conf`,
      `[cache]
STORAGE_DIR = ${dir}/
LOCAL_DATA_DIR = ${dir}/whisper/
CONF_DIR = ${dir}/conf/
LOG_DIR = ${dir}/log/
PID_DIR = ${dir}/pid/
DATABASE = whisper
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 100000
MAX_CREATES_PER_MINUTE = 100000
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = ${this.carbonPort}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = ${freePort()}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = ${freePort()}
WHISPER_AUTOFLUSH = True
ENABLE_TAGS = False
`,
    );
    await Deno.writeTextFile(
      `${dir}/conf/storage-schemas.conf`,
      `[all]\npattern = .*\nretentions = ${options.retentions}\n`,
    );
    await Deno.writeTextFile(
      `${dir}/conf/storage-aggregation.conf`,
      "[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n",
    );
    const carbon = new Child(PYTHON, [
      CARBON_CACHE,
      `--config=${dir}/conf/carbon.conf`,
      "--debug",
      "start",
    ], {});
    this.#children.push(carbon);
    await waitFor(
      "carbon-cache",
      () => listening(this.carbonPort),
      () => carbon.output,
    );
  }

  async #startWeb(): Promise<void> {
    const dir = this.#dir;
    await Deno.writeTextFile(
      `${dir}/conf/metrics_test_settings.py`,
      `SECRET_KEY = 'metrics-test'
STORAGE_DIR = '${dir}/'
WHISPER_DIR = '${dir}/whisper/'
LOG_DIR = '${dir}/log/'
INDEX_FILE = '${dir}/index'
CONF_DIR = '${dir}/conf'
GRAPHITE_ROOT = '/usr/share/graphite-web'
STATIC_ROOT = '/usr/share/graphite-web/static'
DATABASES = {'default': {'NAME': '${dir}/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}
CARBONLINK_HOSTS = []
DEFAULT_XFILES_FACTOR = 0
TIME_ZONE = 'UTC'
`,
    );
    const env = {
      PYTHONPATH: `${dir}/conf`,
      GRAPHITE_SETTINGS_MODULE: "metrics_test_settings",
      DJANGO_SETTINGS_MODULE: "graphite.settings",
    };
    const migrate = new Child(
      PYTHON,
      ["-m", "django", "migrate", "--run-syncdb", "-v0"],
      env,
    );
    const { code } = await migrate.status;
    await migrate.stop();
    if (code !== 0) {
      throw new Error(
        `graphite-web's migrate failed: ${migrate.output.slice(-3000)}`,
      );
    }
    const port = new URL(this.url).port;
    const web = new Child(PYTHON, [
      "-m",
      "django",
      "runserver",
      `127.0.0.1:${port}`,
      "--noreload",
    ], env);
    this.#children.push(web);
    await waitFor("graphite-web", async () => {
      const response = await fetch(`${this.url}/version`, {
        client: this.#http,
      });
      await response.body?.cancel();
      return response.ok;
    }, () => web.output);
  }

  /** Sends `text` (carbon lines) to carbon-cache on one connection. */
  async send(text: string): Promise<void> {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: this.carbonPort,
    });
    try {
      const bytes = new TextEncoder().encode(text);
      for (let at = 0; at < bytes.length;) {
        at += await conn.write(bytes.subarray(at));
      }
    } finally {
      conn.close();
    }
  }

  /** GETs `path` (with its query) from graphite-web: status and body. */
  async get(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.url}${path}`, { client: this.#http });
    return { status: response.status, body: await response.text() };
  }

  /** What the processes printed, for failure messages. */
  get output(): string {
    return this.#children.map((child) => child.output.slice(-3000)).join(
      "\n---\n",
    );
  }

  /** Stops both processes and removes the folder. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const child of this.#children.reverse()) await child.stop();
    this.#http.close();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

skipped("carbon and graphite-web tests", GRAPHITE_SKIP_REASON);

/**
 * Runs `kind` of tests/helpers/graphite_oracle.py (carbon's and
 * graphite-web's own code) on `items`; resolves to its JSON answer.
 */
export async function graphiteOracle<T>(
  kind: "lines" | "names" | "globs" | "aggregates",
  items: unknown[],
): Promise<T> {
  const script = new URL("./graphite_oracle.py", import.meta.url).pathname;
  const child = new Deno.Command(PYTHON, {
    args: [script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ kind, items })));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  if (code !== 0) throw new Error(`oracle failed: ${decoder.decode(stderr)}`);
  return JSON.parse(decoder.decode(stdout)) as T;
}

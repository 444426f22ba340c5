/**
 * A proxy in front of a real VictoriaMetrics that a test can make
 * misbehave: it hides keys (drops them from imports and listings, as a
 * VictoriaMetrics that does not show a new series yet), lists names no
 * series has (as one whose series went since), fails exports from the
 * n-th on, and counts them.
 *
 * @module
 */

const LISTING = "/api/v1/label/__name__/values";
const EXPORT = "/api/v1/export/native";
const IMPORT = "/api/v1/import";

/** Forwards every request to a VictoriaMetrics, with the faults asked for. */
export class FaultyVictoriaMetrics implements AsyncDisposable {
  /** The base URL to give the front-end. */
  readonly url: string;
  /** Keys whose imports are answered 2xx but dropped, never listed. */
  readonly hidden = new Set<string>();
  /** Names added to every listing, though no series has them. */
  readonly phantoms = new Set<string>();
  /** Export requests so far, failed ones too. */
  exports = 0;
  /** Export requests from this one on (1 is the first) answer HTTP 503. */
  failExportsFrom = Infinity;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #http = Deno.createHttpClient({});

  /** Serves on a free port of 127.0.0.1, forwarding to `backend`. */
  constructor(backend: string) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        const url = new URL(request.url);
        if (url.pathname === EXPORT && ++this.exports >= this.failExportsFrom) {
          await request.body?.cancel();
          return new Response("export failed on purpose", { status: 503 });
        }
        const response = await fetch(`${backend}${url.pathname}${url.search}`, {
          method: request.method,
          body: url.pathname === IMPORT
            ? this.#shown(await request.text())
            : request.body,
          headers: request.headers,
          client: this.#http,
        });
        if (url.pathname !== LISTING || !response.ok) {
          return new Response(response.body, { status: response.status });
        }
        const listing = await response.json() as { data: string[] };
        listing.data = [
          ...listing.data.filter((name) => !this.hidden.has(name)),
          ...this.phantoms,
        ];
        return Response.json(listing);
      },
    );
    this.url = `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** The JSON lines of an import body whose key is not hidden. */
  #shown(body: string): string {
    return body.split("\n").filter((line) =>
      line === "" ||
      !this.hidden.has(
        (JSON.parse(line) as { metric: { __name__: string } }).metric.__name__,
      )
    ).join("\n");
  }

  /** Stops serving and closes its connections to the backend. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
    this.#http.close();
  }
}

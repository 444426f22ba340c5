/**
 * Stands in for a VictoriaMetrics cluster's vminsert or vmselect (Debian
 * packages only the single node): an HTTP proxy on 127.0.0.1 that serves
 * only the cluster's paths for one tenant and forwards them to a real
 * single-node VictoriaMetrics. A request on any other path gets 404, so a
 * front-end that builds a wrong cluster URL fails.
 *
 * @module
 */

/** A proxy serving `/metrics` and `/<role>/<tenant>/prometheus/api/v1/...`. */
export class ClusterProxy implements AsyncDisposable {
  /** The base URL to give the front-end, e.g. `.../insert/0/prometheus`. */
  readonly url: string;
  /** Paths asked for, in order (without the query). */
  readonly paths: string[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #http = Deno.createHttpClient({});

  /**
   * Serves `role` (`insert` with `/api/v1/import`, `select` with
   * `/api/v1/export/native` and `/api/v1/label/__name__/values`) for
   * `tenant`, forwarding to `backend`.
   */
  constructor(role: "insert" | "select", tenant: string, backend: string) {
    const prefix = `/${role}/${tenant}/prometheus`;
    const apis = role === "insert"
      ? ["/api/v1/import"]
      : ["/api/v1/export/native", "/api/v1/label/__name__/values"];
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        const url = new URL(request.url);
        this.paths.push(url.pathname);
        const target = url.pathname === "/metrics"
          ? "/metrics"
          : apis.find((api) => url.pathname === prefix + api);
        if (target === undefined) {
          await request.body?.cancel();
          return new Response("not found", { status: 404 });
        }
        const response = await fetch(`${backend}${target}${url.search}`, {
          method: request.method,
          body: request.body,
          headers: request.headers,
          client: this.#http,
        });
        return new Response(response.body, { status: response.status });
      },
    );
    this.url = `http://127.0.0.1:${this.#server.addr.port}${prefix}`;
  }

  /** Stops serving and closes its connections to the backend. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
    this.#http.close();
  }
}

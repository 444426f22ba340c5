/**
 * A quiet front-end, as the VictoriaMetrics tests start one: the server on
 * a {@link VictoriaMetricsStore}, neither logging.
 *
 * @module
 */

import {
  type MetricsServer,
  serve,
  type VictoriaMetricsOptions,
  VictoriaMetricsStore,
} from "../../../../src/server/mod.ts";

/** A quiet front-end on the VictoriaMetrics at `url`, on a free port. */
export async function frontEnd(
  url: string,
  options: Partial<VictoriaMetricsOptions> = {},
): Promise<MetricsServer> {
  const storage = await VictoriaMetricsStore.open({
    urls: [url],
    log: () => {},
    ...options,
  });
  return await serve({ port: 0, storage, log: () => {} });
}

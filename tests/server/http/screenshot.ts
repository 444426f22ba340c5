/**
 * `deno task screenshot`: regenerates docs/dashboard.png, the page with the
 * demo's data. Runs the demo's collector against an in-process server for
 * `--samples=N` seconds (default 60), opens the page in headless Chromium
 * (the browser tests' setup) and saves a screenshot of it.
 *
 * @module
 */

import { Client } from "../../../mod.ts";
import { collectSamples } from "../../../src/cli/collect.ts";
import { hostPrefix } from "../../../src/cli/machine.ts";
import { serve } from "../../../src/server/mod.ts";
import { Browser, BROWSER_SKIP_REASON } from "../../helpers/browser.ts";

const OUTPUT = new URL("../../../docs/dashboard.png", import.meta.url);
const samplesArg = Deno.args.find((arg) => arg.startsWith("--samples="));
const SAMPLES = Number(samplesArg?.slice("--samples=".length) ?? 60);

if (BROWSER_SKIP_REASON !== undefined) {
  console.error(BROWSER_SKIP_REASON);
  Deno.exit(1);
}

await using server = await serve({ port: 0, log: () => {}, http: { port: 0 } });
const prefix = hostPrefix(Deno.hostname());
{
  await using client = new Client(server.hostname, server.port);
  console.error(`collecting ${SAMPLES} samples of this machine, 1 s apart`);
  await collectSamples({
    client,
    prefix,
    intervalMs: 1000,
    count: SAMPLES,
    signal: new AbortController().signal,
    report: () => {},
  });
}
await using browser = await Browser.launch();
const { page, errors } = await browser.open(
  `${server.http!.url}#${prefix}.cpu_percent`,
  { width: 1200, height: 560 },
);
await page.click('#ranges button[data-range="0"]');
await page.waitForFunction(
  `document.getElementById("info").textContent.includes("points")`,
  { timeout: 5000 },
);
// Let the chart settle after the last refresh.
await new Promise((resolve) => setTimeout(resolve, 500));
await page.screenshot({ path: OUTPUT.pathname });
if (errors.length > 0) console.error(`page errors: ${errors.join("; ")}`);
console.error(`wrote ${OUTPUT.pathname}`);

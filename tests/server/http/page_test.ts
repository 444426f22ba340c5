/**
 * The page in a real browser (headless Chromium): it loads without an
 * error, lists the keys, draws the chart and shows new points live.
 */

import { assert, assertEquals } from "@std/assert";
import { Client } from "../../../mod.ts";
import { type MetricsServer, serve } from "../../../src/server/mod.ts";
import { Browser, BROWSER_SKIP_REASON } from "../../helpers/browser.ts";

const ignore = BROWSER_SKIP_REASON !== undefined;

/** A server with HTTP on, holding a few minutes of three keys. */
async function serverWithData(): Promise<MetricsServer> {
  const server = await serve({ port: 0, log: () => {}, http: { port: 0 } });
  await using client = new Client(server.hostname, server.port);
  const now = Math.floor(Date.now() / 1000);
  const puts: Promise<void>[] = [];
  for (let t = now - 600; t <= now; t += 5) {
    puts.push(
      client.put("web.cpu", 50 + 40 * Math.sin(t / 60), { timestamp: t }),
    );
    puts.push(client.put("web.memory", 1e9 + t % 97, { timestamp: t }));
    puts.push(client.put("db.load1", 1.5, { timestamp: t }));
  }
  await Promise.all(puts);
  return server;
}

/** Pixels of the chart's canvas close to the series colour. */
const SERIES_PIXELS = `(() => {
  const canvas = document.querySelector("#chart canvas");
  const { width, height } = canvas;
  const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  const [r, g, b] = getComputedStyle(document.documentElement)
    .getPropertyValue("--accent").trim().match(/[0-9a-f]{2}/gi)
    .map((hex) => parseInt(hex, 16));
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    const near = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) +
      Math.abs(data[i + 2] - b) < 60;
    if (near && data[i + 3] > 200) count++;
  }
  return count;
})()`;

const KEY_NAMES =
  `[...document.querySelectorAll("#keys .name")].map((e) => e.textContent)`;

Deno.test({
  name: "the page loads with no console error and lists the keys that were put",
  ignore,
  async fn() {
    await using server = await serverWithData();
    await using browser = await Browser.launch();
    const { page, errors } = await browser.open(server.http!.url);
    await page.waitForFunction(`${KEY_NAMES}.length === 3`, { timeout: 5000 });
    assertEquals(await page.evaluate(KEY_NAMES), [
      "web.cpu",
      "web.memory",
      "db.load1",
    ]);
    await page.waitForFunction(
      `document.getElementById("status").textContent === "live"`,
      { timeout: 5000 },
    );
    assertEquals(errors, []);
  },
});

Deno.test({
  name: "the chosen key's chart is drawn: its canvas holds the series line",
  ignore,
  async fn() {
    await using server = await serverWithData();
    await using browser = await Browser.launch();
    for (const dark of [false, true]) {
      const { page, errors } = await browser.open(server.http!.url, { dark });
      await page.waitForFunction(`${SERIES_PIXELS} > 300`, { timeout: 5000 });
      assertEquals(
        await page.evaluate(`document.getElementById("title").textContent`),
        "web.cpu",
      );
      assertEquals(errors, []);
      await page.close();
    }
  },
});

Deno.test({
  name: "a point put after the page opened shows within 2 s",
  ignore,
  async fn() {
    await using server = await serverWithData();
    await using browser = await Browser.launch();
    const { page, errors } = await browser.open(server.http!.url);
    await page.waitForFunction(
      `document.getElementById("status").textContent === "live" &&
        document.getElementById("info").textContent.includes("points")`,
      { timeout: 5000 },
    );
    await using client = new Client(server.hostname, server.port);
    const now = Math.floor(Date.now() / 1000);
    await Promise.all([
      client.put("web.cpu", 123456, { timestamp: now + 1 }),
      client.put("late.key", 7, { timestamp: now }),
    ]);
    const started = performance.now();
    await page.waitForFunction(
      `document.getElementById("info").textContent.includes("last 123456 at ") &&
        ${KEY_NAMES}.includes("late.key")`,
      // Live, without a reload: a busy machine may stretch the usual half
      // second, only a page that is not live fails.
      { timeout: 10_000 },
    );
    assert(performance.now() - started < 10_000);
    assertEquals(errors, []);
  },
});

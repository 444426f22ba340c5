/**
 * What the page shows in a real browser (headless Chromium), as a user
 * meets it: the chosen key stands out, numbers of any size read right and
 * exactly, old data is found, and an empty server says what to do.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { Client } from "../../../mod.ts";
import { serve } from "../../../src/server/mod.ts";
import { Browser, BROWSER_SKIP_REASON } from "../../helpers/browser.ts";

const ignore = BROWSER_SKIP_REASON !== undefined;
const text = (id: string): string =>
  `document.getElementById(${JSON.stringify(id)}).textContent`;

Deno.test({
  name:
    "a key clicked on a page with no new points is highlighted, and only it",
  ignore,
  async fn() {
    await using server = await serve({
      port: 0,
      log: () => {},
      http: { port: 0 },
    });
    const now = Math.floor(Date.now() / 1000);
    {
      await using client = new Client(server.hostname, server.port);
      await client.put("a.first", 1, { timestamp: now });
      await client.put("b.second", 2, { timestamp: now });
    }
    await using browser = await Browser.launch();
    const { page, errors } = await browser.open(server.http!.url);
    await page.waitForSelector('#keys button[data-key="b.second"]', {
      timeout: 5000,
    });
    await page.click('#keys button[data-key="b.second"]');
    await page.waitForFunction(`${text("title")} === "b.second"`, {
      timeout: 5000,
    });
    const state = await page.evaluate(
      `[...document.querySelectorAll("#keys button")].map((b) => [
      b.dataset.key, b.getAttribute("aria-current"), getComputedStyle(b).backgroundColor])`,
    ) as [string, string | null, string][];
    assertEquals(state.map(([key, current]) => [key, current]), [[
      "a.first",
      null,
    ], ["b.second", "true"]]);
    assert(
      state[0][2] !== state[1][2],
      "the chosen key looks the same as the others",
    );
    assertMatch(
      await page.evaluate("location.hash") as string,
      /key=b\.second/,
    );
    assertEquals(errors, []);
  },
});

Deno.test({
  name:
    "values in the billions read right: SI labels on the axis and the list, the exact value in the info line",
  ignore,
  async fn() {
    await using server = await serve({
      port: 0,
      log: () => {},
      http: { port: 0 },
    });
    const now = Math.floor(Date.now() / 1000);
    {
      await using client = new Client(server.hostname, server.port, {
        maxInFlight: 64,
      });
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          client.put(
            "host.memory",
            4.3e8 + i * 1e7 + (i === 59 ? 38759948 - 4.3e8 - 59e7 + 5e9 : 0),
            {
              timestamp: now - 59 + i,
            },
          )),
      );
    }
    await using browser = await Browser.launch();
    const { page, errors } = await browser.open(server.http!.url);
    await page.waitForFunction(
      `${text("info")}.includes("last 5038759948 at ")`,
      { timeout: 5000 },
    );
    assertEquals(
      await page.evaluate(`document.querySelector("#keys .last").textContent`),
      "5.039 G",
    );
    const labels = await page.evaluate(
      `metricsChart().axes[1]._values.filter((v) => v !== null)`,
    ) as string[];
    assert(labels.length >= 2, `labels ${labels}`);
    for (const label of labels) {
      assertMatch(label, /^-?\d+(\.\d+)? [kMG]$|^0$/, `label ${label}`);
    }
    assertEquals(
      new Set(labels).size,
      labels.length,
      `repeated labels ${labels}`,
    );
    assertMatch(
      await page.evaluate(text("info")) as string,
      / at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    );
    assertEquals(errors, []);
  },
});

Deno.test({
  name:
    "a key whose points are all older than the range says when its last point is, and 'show all' shows it and keeps the range in the URL",
  ignore,
  async fn() {
    await using server = await serve({
      port: 0,
      log: () => {},
      http: { port: 0 },
    });
    {
      await using client = new Client(server.hostname, server.port);
      await client.put("palm.cpu", 0.5, { timestamp: 1150864247 });
      await client.put("palm.cpu", 2.0, { timestamp: 1150864248 });
    }
    await using browser = await Browser.launch();
    const { page, errors } = await browser.open(server.http!.url);
    await page.waitForFunction(
      `${text("info")}.startsWith("no points in the last 1 h")`,
      { timeout: 5000 },
    );
    assertEquals(
      await page.evaluate(text("info")),
      "no points in the last 1 h; the last is 2 at 2006-06-21 04:30:48 UTC show all",
    );
    await page.click("#show-all");
    await page.waitForFunction(
      `${text("info")}.startsWith("2 points in range")`,
      { timeout: 5000 },
    );
    assertMatch(await page.evaluate("location.hash") as string, /range=0/);
    // The URL brings the same view back.
    const again = await browser.open(
      await page.evaluate("location.href") as string,
    );
    await again.page.waitForFunction(
      `${text("info")}.startsWith("2 points in range")`,
      { timeout: 5000 },
    );
    assertEquals([...errors, ...again.errors], []);
  },
});

Deno.test({
  name: "an empty server's page says how to store the first point",
  ignore,
  async fn() {
    await using server = await serve({
      port: 0,
      log: () => {},
      http: { port: 0 },
    });
    await using browser = await Browser.launch();
    const { page, errors } = await browser.open(server.http!.url);
    await page.waitForFunction(`${text("summary")} === "no keys yet"`, {
      timeout: 5000,
    });
    assertEquals(
      await page.evaluate(`document.getElementById("empty").hidden`),
      false,
    );
    assertMatch(
      await page.evaluate(text("empty")) as string,
      /metrics put palm\.cpu 0\.5/,
    );
    assertEquals(errors, []);
  },
});

Deno.test({
  name: "the time axis and the legend speak UTC in 24-hour form",
  ignore,
  async fn() {
    await using server = await serve({
      port: 0,
      log: () => {},
      http: { port: 0 },
    });
    {
      await using client = new Client(server.hostname, server.port, {
        maxInFlight: 64,
      });
      // 2006-06-21 16:00 to 17:00 UTC: an afternoon, where 12-hour forms differ.
      await Promise.all(
        Array.from(
          { length: 61 },
          (_, i) =>
            client.put("palm.cpu", i, { timestamp: 1150905600 + 60 * i }),
        ),
      );
    }
    await using browser = await Browser.launch();
    const { page, errors } = await browser.open(
      `${server.http!.url}#key=palm.cpu&range=0`,
    );
    await page.waitForFunction(`${text("info")}.startsWith("61 points")`, {
      timeout: 5000,
    });
    const labels = await page.evaluate(
      `metricsChart().axes[0]._values.filter((v) => v !== null)`,
    ) as string[];
    assert(labels.length >= 2, `labels ${labels}`);
    for (const label of labels) {
      assertMatch(label, /^1[67]:\d\d$/, `label ${label}`);
    }
    assertEquals(errors, []);
  },
});

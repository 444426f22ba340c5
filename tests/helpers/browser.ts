/**
 * Headless Chromium for tests of the page, driven by `puppeteer-core`
 * (Debian's `chromium`; `.ci/run` installs it). Every launch gets a fresh
 * profile and the flags that keep Chromium off the network, and
 * `await using` closes it (killing it if it does not close).
 *
 * @module
 */

// Test-only, so named here rather than in deno.json's imports (see
// fast_check.ts).
import puppeteer, {
  type Browser as PuppeteerBrowser,
  type Page,
} from "npm:puppeteer-core@25.16.0";
import { skipped } from "./skip.ts";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Why browser tests are skipped, or undefined when they run. */
export const BROWSER_SKIP_REASON: string | undefined = (() => {
  try {
    Deno.statSync(CHROMIUM);
    return undefined;
  } catch {
    return `${CHROMIUM} is missing (install Debian's chromium package; .ci/run does)`;
  }
})();

skipped("browser tests", BROWSER_SKIP_REASON);

/**
 * No sandbox (containers lack the namespaces), no GPU, and no background
 * traffic: without these Chromium floods a closed network with retries.
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A page and what went wrong on it: console errors, page errors, failed loads. */
export interface WatchedPage {
  /** The puppeteer page. */
  readonly page: Page;
  /** Every console error, uncaught exception and failed request. */
  readonly errors: string[];
}

/** A running headless Chromium with its own temporary profile. */
export class Browser implements AsyncDisposable {
  readonly #browser: PuppeteerBrowser;
  readonly #profile: string;

  private constructor(browser: PuppeteerBrowser, profile: string) {
    this.#browser = browser;
    this.#profile = profile;
  }

  /** Launches Chromium headless with a fresh `--user-data-dir`. */
  static async launch(): Promise<Browser> {
    const profile = await Deno.makeTempDir({ prefix: "metrics-chromium-" });
    try {
      const browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: profile,
        args: FLAGS,
        timeout: 20_000,
      });
      return new Browser(browser, profile);
    } catch (error) {
      await Deno.remove(profile, { recursive: true });
      throw error;
    }
  }

  /**
   * Opens `url` in a new page of `width` × `height` pixels, watching it
   * for errors from before the first byte.
   */
  async open(
    url: string,
    { width = 1200, height = 700, dark = false } = {},
  ): Promise<WatchedPage> {
    const page = await this.#browser.newPage();
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => errors.push(`page: ${error}`));
    page.on("requestfailed", (request) => {
      // A live event stream is cut when the page closes: not a failure.
      if (!request.url().endsWith("/api/events")) {
        errors.push(
          `request: ${request.url()} ${request.failure()?.errorText}`,
        );
      }
    });
    await page.setViewport({ width, height });
    await page.emulateMediaFeatures([
      { name: "prefers-color-scheme", value: dark ? "dark" : "light" },
    ]);
    await page.goto(url, { waitUntil: "load", timeout: 10_000 });
    return { page, errors };
  }

  /** Closes the browser (kills it past 5 s) and removes its profile. */
  async [Symbol.asyncDispose](): Promise<void> {
    const process = this.#browser.process();
    const killer = setTimeout(() => process?.kill("SIGKILL"), 5000);
    try {
      await this.#browser.close();
    } finally {
      clearTimeout(killer);
      await Deno.remove(this.#profile, { recursive: true });
    }
  }
}

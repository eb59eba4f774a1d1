/**
 * Headless Debian Chromium driven by playwright-core, with the flags the machine needs and an
 * empty profile. Every console error and uncaught page error is collected so tests can fail on them.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.MINDROOM_CHROMIUM ?? "/usr/bin/chromium";
/**
 * Where screenshots go: an ignored folder on every test run, so running the suite leaves the tree
 * clean; the documented ones in docs/screenshots/ only when asked (`npm run screenshots`).
 */
export const SCREENSHOTS =
  process.env.MINDROOM_UPDATE_SCREENSHOTS === "1"
    ? resolve(import.meta.dirname, "..", "..", "docs", "screenshots")
    : resolve(import.meta.dirname, "..", "..", ".test-data", "screenshots");

export interface Session {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and page errors seen so far. */
  readonly errors: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Session> {
  const profile = mkdtempSync(join(tmpdir(), "mindroom-chromium-"));
  // An empty profile folder: playwright passes it to Chromium as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()} (${page.url()})`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message} (${page.url()})`));
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    errors,
    screenshot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Headless Chromium for end-to-end tests: Debian's `chromium` package driven by playwright-core
 * (no browser download: the machine may be offline). A fresh profile per launch, and every
 * background service that could reach the network switched off.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { REPO } from './processes.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumMissing = (): string | false =>
  existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium package (apt-get install -y chromium)`;

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(opts: { width?: number; height?: number } = {}): Promise<Browser> {
  const profile = await mkdtemp(path.join(tmpdir(), 'docsight-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Builds the dashboard (web/dist) when it has not been built yet: the service serves it from there. */
export function ensureDashboardBuilt(): void {
  if (!existsSync(path.join(REPO, 'web', 'dist', 'index.html'))) {
    execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web'], { cwd: REPO, stdio: 'ignore' });
  }
}

/** A fresh browser and a page of it; the page's uncaught errors are pushed to `errors`. */
export async function openPage(errors: string[], opts: { width?: number; height?: number } = {}): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser(opts);
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  return { browser, page };
}

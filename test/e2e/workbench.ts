// Drives the VS Code workbench page that code-server serves, with Debian's Chromium under
// playwright-core. Every wait polls for a condition with an upper bound; none sleeps blindly.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { extensionHostLogFiles, projectRoot, readLogs } from './codeServer';

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const resultsDir = join(projectRoot, 'test-results');

// Without the networking flags Chromium keeps trying to reach services that are not there.
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface TreeItem {
  label: string;
  description: string;
  /** 1 for top-level rows. */
  level: number;
  /** undefined for rows that cannot expand. */
  expanded: boolean | undefined;
}

export interface StatusBarItem {
  /** The entry id, e.g. `<extension id>.<item id>` for an extension's item. */
  id: string;
  text: string;
  ariaLabel: string;
}

export interface WorkbenchOptions {
  /** code-server's logs folder, for `extensionHostLog()`. */
  logsDir?: string;
  /** Upper bound of the page load, default 90 s. */
  timeoutMs?: number;
  /** Aborts pending waits (pass the test's `t.signal`). */
  signal?: AbortSignal;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Shown in the timeout error: what was waited for. */
  what?: string;
}

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;
const QUICK_INPUT_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;

export class Workbench {
  /** Uncaught page errors seen so far. */
  readonly pageErrors: string[] = [];

  constructor(
    readonly browser: Browser,
    readonly page: Page,
    private readonly options: WorkbenchOptions,
  ) {
    page.on('pageerror', (err) => this.pageErrors.push(err.message));
  }

  /**
   * Polls `read` until `done` holds for its value, at most `timeoutMs`; returns that value.
   * The timeout error shows the last value read, which is what a failing test needs to say.
   */
  async waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, opts: WaitOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    let lastError: unknown;
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      this.options.signal?.throwIfAborted();
      try {
        last = await read();
        if (done(last)) return last;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) break;
      await this.page.waitForTimeout(Math.min(delay, Math.max(0, deadline - Date.now())));
    }
    const shown = lastError !== undefined && last === undefined ? String(lastError) : JSON.stringify(last, null, 1);
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}; last seen: ${shown}`);
  }

  /** Activity-bar entries (their aria-labels, e.g. "Explorer (Ctrl+Shift+E)", "Coder Status"). */
  async activityBarItems(): Promise<string[]> {
    return this.page.$$eval('.activitybar .action-item [aria-label]', (els) =>
      els.map((e) => e.getAttribute('aria-label') ?? ''),
    );
  }

  /** Shows the view container whose activity-bar entry is labelled `title` (no toggle if shown). */
  async openView(title = 'Coder Status', timeoutMs = 30_000): Promise<void> {
    const item = this.page.locator('.activitybar .action-item').filter({
      has: this.page.locator(`[aria-label="${title}"], [aria-label^="${title} ("]`),
    });
    await item.first().waitFor({ state: 'visible', timeout: timeoutMs });
    const isChecked = async (): Promise<boolean> => (await item.first().getAttribute('class'))?.includes('checked') ?? false;
    if (!(await isChecked())) await item.first().click();
    await this.waitFor(isChecked, (v) => v, { timeoutMs, what: `view container "${title}" to be shown` });
    await this.page.locator('.part.sidebar').waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** Title of the side bar (e.g. "CODER STATUS: WORKSPACE AGENTS"). */
  async sideBarTitle(): Promise<string> {
    const title = this.page.locator('.part.sidebar > .composite.title .title-label').first();
    return (await title.count()) > 0 ? title.innerText() : '';
  }

  /** The rows of the trees in the side bar, in display order (only rendered rows). */
  async treeItems(): Promise<TreeItem[]> {
    return this.page.$$eval('.part.sidebar .monaco-list-row', (rows) =>
      rows.map((row) => {
        const expanded = row.getAttribute('aria-expanded');
        return {
          label: row.querySelector('.label-name')?.textContent?.trim() ?? '',
          description: row.querySelector('.label-description')?.textContent?.trim() ?? '',
          level: Number(row.getAttribute('aria-level') ?? '1'),
          expanded: expanded === null ? undefined : expanded === 'true',
        };
      }),
    );
  }

  async waitForTreeItem(predicate: (item: TreeItem) => boolean, timeoutMs = 30_000): Promise<TreeItem> {
    const items = await this.waitFor(() => this.treeItems(), (all) => all.some(predicate), {
      timeoutMs,
      what: 'a matching tree item',
    });
    return items.find(predicate) as TreeItem;
  }

  async statusBarItems(): Promise<StatusBarItem[]> {
    return this.page.$$eval('.part.statusbar .statusbar-item', (els) =>
      els.map((e) => ({
        id: e.id,
        text: (e as HTMLElement).innerText.trim(),
        ariaLabel: e.getAttribute('aria-label') ?? e.querySelector('[aria-label]')?.getAttribute('aria-label') ?? '',
      })),
    );
  }

  async waitForStatusBar(predicate: (item: StatusBarItem) => boolean, timeoutMs = 30_000): Promise<StatusBarItem> {
    const items = await this.waitFor(() => this.statusBarItems(), (all) => all.some(predicate), {
      timeoutMs,
      what: 'a matching status-bar item',
    });
    return items.find(predicate) as StatusBarItem;
  }

  /** Texts of the notification toasts currently shown. */
  async notifications(): Promise<string[]> {
    return this.page.$$eval('.notifications-toasts .notification-toast', (els) =>
      els.map((e) => (e.querySelector('.notification-list-item-message') as HTMLElement | null)?.innerText.trim() ?? ''),
    );
  }

  /** The welcome content of the views in the side bar (empty when a view shows its tree). */
  async welcomeText(): Promise<string> {
    const texts = await this.page.$$eval('.part.sidebar .welcome-view-content', (els) =>
      els.map((e) => (e as HTMLElement).innerText.trim()),
    );
    return texts.join('\n');
  }

  private async openPalette(text: string): Promise<void> {
    const input = this.page.locator(QUICK_INPUT_BOX);
    if (!(await input.isVisible())) {
      await this.page.locator('.monaco-workbench').focus();
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
    }
    await input.fill(`>${text}`);
  }

  private async paletteRows(): Promise<string[]> {
    return this.page.$$eval(QUICK_INPUT_ROWS, (rows) =>
      rows.map((r) => r.querySelector('.label-name')?.textContent?.trim() ?? '').filter((l) => l !== ''),
    );
  }

  private async closePalette(): Promise<void> {
    const widget = this.page.locator(QUICK_INPUT);
    if (await widget.isVisible()) {
      await this.page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 10_000 });
    }
  }

  /**
   * Command titles the palette lists for `filter` ("Category: Title"). The list is read once it
   * has been the same on two reads in a row, as the palette fills it in as it filters.
   */
  async paletteCommands(filter: string, timeoutMs = 15_000): Promise<string[]> {
    await this.openPalette(filter);
    let previous = '';
    const rows = await this.waitFor(
      () => this.paletteRows(),
      (r) => {
        const key = JSON.stringify(r);
        const stable = r.length > 0 && key === previous;
        previous = key;
        return stable;
      },
      { timeoutMs, what: `palette entries for "${filter}"` },
    ).catch(async (err: unknown) => {
      // No match at all is an answer too, when the palette says so.
      if ((await this.page.locator(`${QUICK_INPUT} .quick-input-message`).innerText().catch(() => '')).trim() !== '') return [];
      throw err;
    });
    await this.closePalette();
    return rows;
  }

  /** Runs the command whose palette label is exactly `title`, e.g. "Coder Status: Refresh". */
  async runCommand(title: string, timeoutMs = 15_000): Promise<void> {
    await this.openPalette(title);
    const row = this.page.locator(QUICK_INPUT_ROWS).filter({
      has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
    });
    await row.first().waitFor({ state: 'visible', timeout: timeoutMs });
    await row.first().click();
    await this.page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: timeoutMs }).catch(() => undefined);
  }

  /** Saves a PNG of the page into test-results/ and returns its path. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(resultsDir, { recursive: true });
    const path = join(resultsDir, `${safeFileName(name)}.png`);
    await this.page.screenshot({ path, timeout: 15_000 });
    return path;
  }

  /** Extension-host logs, including this extension's own LogOutputChannel file. */
  extensionHostLog(): string {
    return this.options.logsDir ? readLogs(extensionHostLogFiles(this.options.logsDir)) : '';
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
  }
}

export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 120) || 'screenshot';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Launches Chromium, opens `url` and waits for the workbench to be there. */
export async function openWorkbench(url: string, options: WorkbenchOptions = {}): Promise<Workbench> {
  const timeout = options.timeoutMs ?? 90_000;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const wb = new Workbench(browser, page, options);
    await page.goto(url, { timeout });
    await page.locator('.monaco-workbench').waitFor({ state: 'attached', timeout });
    // The activity bar is drawn once the workbench has restored its parts.
    await page.locator('.activitybar .action-item').first().waitFor({ state: 'visible', timeout });
    return wb;
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

// Drives the VS Code workbench page that code-server serves, with Debian's Chromium under
// playwright-core. Every wait polls for a condition with an upper bound; none sleeps blindly.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
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
  /** The row's accessibility label (a tree item's `accessibilityInformation` or its label). */
  ariaLabel: string;
  /** Codicon id of a ThemeIcon, e.g. `pass-filled`; '' for none or a file icon. */
  icon: string;
}

export interface StatusBarItem {
  /** The entry id, e.g. `<extension id>.<item id>` for an extension's item. */
  id: string;
  text: string;
  ariaLabel: string;
}

export interface QuickInputState {
  title: string;
  placeholder: string;
  /** Labels of the picks shown (none for an input box). */
  items: string[];
  value: string;
  /** Validation or info message under the input, '' for none. */
  message: string;
}

export interface WorkbenchOptions {
  /** code-server's logs folder, for `extensionHostLog()`. */
  logsDir?: string;
  /** Upper bound of the page load, default 90 s. */
  timeoutMs?: number;
  /** Aborts pending waits (pass the test's `t.signal`). */
  signal?: AbortSignal;
}

interface PageOptions extends WorkbenchOptions {
  /** false for a second window: closing it closes its page, not the browser. */
  ownsBrowser?: boolean;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Shown in the timeout error: what was waited for. */
  what?: string;
}

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;
const QUICK_INPUT_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;

/**
 * Runs in the workbench page before its own scripts: reports the texts a user is shown and may
 * copy (notifications, dialogs, quick-input messages, hovers), each time one appears, for the
 * secrets sweep. Plain JavaScript in a string: a compiled function would carry the test
 * loader's helpers along.
 */
const REPORT_SHOWN_TEXTS = `(() => {
  const report = globalThis.__e2eShown;
  if (typeof report !== 'function' || window !== window.top) return;
  const shown = new Set();
  const selectors = '.notification-list-item-message, .notification-list-item-details-row, .monaco-dialog-box, .quick-input-message, .monaco-inputbox-message, .monaco-hover-content';
  let pending = false;
  const collect = () => {
    pending = false;
    for (const el of document.querySelectorAll(selectors)) {
      const text = el.innerText;
      if (text && !shown.has(text)) {
        shown.add(text);
        report(el.className.split(' ')[0] || 'text', text);
      }
    }
  };
  const observer = new MutationObserver(() => {
    if (!pending) {
      pending = true;
      setTimeout(collect, 50);
    }
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true });
  collect();
})();`;

export class Workbench {
  /** Uncaught page errors seen so far. */
  readonly pageErrors: string[] = [];
  /** What the page showed during the run (`REPORT_SHOWN_TEXTS`, `recordFrames`), for the secrets sweep. */
  readonly shown: { where: string; content: string }[] = [];

  private readonly frameStates = new Set<string>();
  private frameWatch: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly browser: Browser,
    readonly page: Page,
    private readonly options: PageOptions,
  ) {
    page.on('pageerror', (err) => this.pageErrors.push(err.message));
    // Webview documents are written into their frames by script, where init scripts do not
    // run: their HTML is read every second instead (a record, not a wait).
    let reading = false;
    this.frameWatch = setInterval(() => {
      if (reading) return;
      reading = true;
      void this.recordFrames().finally(() => (reading = false));
    }, 1000);
  }

  /** Records the HTML of every frame but the workbench's own, when it changed. */
  async recordFrames(): Promise<void> {
    for (const f of this.page.frames()) {
      if (f === this.page.mainFrame()) continue;
      const html = await f.content().catch(() => undefined);
      if (html === undefined || this.frameStates.has(html)) continue;
      this.frameStates.add(html);
      this.shown.push({ where: `frame ${f.url()}`, content: html });
    }
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
    const errorText = lastError instanceof Error ? lastError.message : JSON.stringify(lastError);
    const shown = lastError !== undefined && last === undefined ? errorText : JSON.stringify(last, null, 1);
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}; last seen: ${shown}`);
  }

  /** Activity-bar entries (their aria-labels, e.g. "Explorer (Ctrl+Shift+E)", "Coder Status"). */
  async activityBarItems(): Promise<string[]> {
    return this.page.$$eval('.activitybar .action-item [aria-label]', (els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
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
        const iconEl = row.querySelector('.custom-view-tree-node-item-icon');
        const icon = /(?:^|\s)codicon-([\w-]+)/.exec(iconEl?.className ?? '')?.[1] ?? '';
        return {
          label: row.querySelector('.label-name')?.textContent?.trim() ?? '',
          description: row.querySelector('.label-description')?.textContent?.trim() ?? '',
          level: Number(row.getAttribute('aria-level') ?? '1'),
          expanded: expanded === null ? undefined : expanded === 'true',
          ariaLabel: row.getAttribute('aria-label') ?? '',
          icon,
        };
      }),
    );
  }

  async waitForTreeItem(predicate: (item: TreeItem) => boolean, timeoutMs = 30_000): Promise<TreeItem> {
    const items = await this.waitFor(
      () => this.treeItems(),
      (all) => all.some(predicate),
      {
        timeoutMs,
        what: 'a matching tree item',
      },
    );
    return items.find(predicate) as TreeItem;
  }

  private treeRow(label: string): Locator {
    return this.page.locator('.part.sidebar .monaco-list-row').filter({
      has: this.page.locator('.label-name', { hasText: exactText(label) }),
    });
  }

  /** Clicks the tree row labelled `label` (selects it; toggles a collapsible row). */
  async clickTreeItem(label: string, timeoutMs = 15_000): Promise<void> {
    await this.treeRow(label).first().click({ timeout: timeoutMs });
  }

  /** Titles of the inline action buttons of the row labelled `label` (shown on hover). */
  async treeItemActions(label: string, timeoutMs = 15_000): Promise<string[]> {
    const row = this.treeRow(label).first();
    await row.hover({ timeout: timeoutMs });
    return row
      .locator('.actions .action-label')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? e.getAttribute('title') ?? ''));
  }

  /** Opens the row's context menu and returns its enabled entries; `run` clicks one of them. */
  async contextMenu(label: string, run?: string, timeoutMs = 15_000): Promise<string[]> {
    await this.treeRow(label).first().click({ button: 'right', timeout: timeoutMs });
    const items = this.page.locator('.monaco-menu .action-item:not(.disabled) .action-label');
    await items.first().waitFor({ state: 'visible', timeout: timeoutMs });
    const labels = await items.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    if (run === undefined) {
      await this.page.keyboard.press('Escape');
    } else {
      if (!labels.includes(run)) throw new Error(`no "${run}" in the context menu of "${label}": ${JSON.stringify(labels)}`);
      // The keyboard is what reliably runs a menu entry in the web workbench (a pointer click can
      // land while the menu is still laying out): Down focuses the first entry.
      const all = await this.page
        .locator('.monaco-menu .action-item .action-label')
        .evaluateAll((els) =>
          els
            .filter((e) => !e.closest('.action-item')?.classList.contains('disabled') && e.getAttribute('aria-label'))
            .map((e) => e.getAttribute('aria-label')),
        );
      for (let i = 0; i <= all.indexOf(run); i++) await this.page.keyboard.press('ArrowDown');
      await this.page.keyboard.press('Enter');
    }
    await this.page
      .locator('.monaco-menu')
      .first()
      .waitFor({ state: 'detached', timeout: timeoutMs })
      .catch(() => undefined);
    return labels;
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
    const items = await this.waitFor(
      () => this.statusBarItems(),
      (all) => all.some(predicate),
      {
        timeoutMs,
        what: 'a matching status-bar item',
      },
    );
    return items.find(predicate) as StatusBarItem;
  }

  /** Texts of the notification toasts currently shown. */
  async notifications(): Promise<string[]> {
    return this.page.$$eval('.notifications-toasts .notification-toast', (els) =>
      els.map((e) => e.querySelector<HTMLElement>('.notification-list-item-message')?.innerText.trim() ?? ''),
    );
  }

  /** The text on the clipboard (the harness grants the page clipboard access). */
  async clipboardText(): Promise<string> {
    return this.page.evaluate(() => navigator.clipboard.readText());
  }

  /** The buttons of the toast whose message contains `message`. */
  async notificationButtons(message: string): Promise<string[]> {
    const toast = this.page.locator('.notifications-toasts .notification-toast').filter({ hasText: message });
    return toast.first().locator('.monaco-button').allInnerTexts();
  }

  /** Clicks `button` on the toast whose message contains `message`. */
  async clickNotificationButton(message: string, button: string, timeoutMs = 15_000): Promise<void> {
    const toast = this.page.locator('.notifications-toasts .notification-toast').filter({ hasText: message });
    await toast
      .first()
      .locator('.monaco-button', { hasText: exactText(button) })
      .first()
      .click({ timeout: timeoutMs });
  }

  /** The welcome content of the views in the side bar (empty when a view shows its tree). */
  async welcomeText(): Promise<string> {
    const texts = await this.page.$$eval('.part.sidebar .welcome-view-content', (els) =>
      els.map((e) => (e as HTMLElement).innerText.trim()),
    );
    return texts.join('\n');
  }

  /** Opens the palette (F1) if needed and (re)types the filter, so that it is applied anew. */
  private async openPalette(text: string): Promise<void> {
    const input = this.page.locator(QUICK_INPUT_BOX);
    if (!(await input.isVisible())) {
      await this.page.locator('.monaco-workbench').focus();
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
    }
    await input.fill('>');
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
   * Command titles the palette lists for `filter` ("Category: Title"). Contributed commands
   * show up only once the workbench knows the extension, so the filter is typed anew on every
   * read until `until` holds for the titles (default: the same non-empty list twice in a row).
   */
  async paletteCommands(filter: string, until?: (titles: string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
    let previous = '';
    const stable = (titles: string[]): boolean => {
      const key = JSON.stringify(titles);
      const same = titles.length > 0 && key === previous;
      previous = key;
      return same;
    };
    const titles = await this.waitFor(
      async () => {
        await this.openPalette(filter);
        return this.paletteRows();
      },
      until ?? stable,
      { timeoutMs, what: `palette entries for "${filter}"` },
    );
    await this.closePalette();
    return titles;
  }

  /** Runs the command whose palette label is exactly `title`, e.g. "Coder Status: Refresh". */
  async runCommand(title: string, timeoutMs = 30_000): Promise<void> {
    const row = this.page.locator(QUICK_INPUT_ROWS).filter({
      has: this.page.locator('.label-name', { hasText: exactText(title) }),
    });
    await this.waitFor(
      async () => {
        await this.openPalette(title);
        return row.first().isVisible();
      },
      (shown) => shown,
      { timeoutMs, what: `"${title}" in the command palette` },
    );
    await row.first().click();
    // Done when the palette is gone or has given way to the command's own quick input.
    await this.waitFor(
      async () => ((await this.quickInputVisible()) ? await this.page.locator(QUICK_INPUT_BOX).inputValue() : ''),
      (value) => !value.startsWith('>'),
      { timeoutMs, what: `the palette to close after "${title}"` },
    );
  }

  async quickInputVisible(): Promise<boolean> {
    return this.page.locator(QUICK_INPUT_BOX).isVisible();
  }

  /**
   * Title, placeholder and item labels of the open quick input (a pick or an input box), or
   * undefined when none is open.
   */
  async quickInput(): Promise<QuickInputState | undefined> {
    const box = this.page.locator(QUICK_INPUT_BOX);
    if (!(await box.isVisible())) return undefined;
    return {
      title: (
        await this.page
          .locator(`${QUICK_INPUT} .quick-input-title`)
          .innerText()
          .catch(() => '')
      ).trim(),
      placeholder: (await box.getAttribute('placeholder').catch(() => null)) ?? '',
      items: await this.paletteRows(),
      value: await box.inputValue(),
      message: (
        await this.page
          .locator(`${QUICK_INPUT} .quick-input-message, .monaco-inputbox-container .monaco-inputbox-message`)
          .evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.trim()).filter((t) => t !== ''))
      ).join('\n'),
    };
  }

  /** Waits for a quick input that `predicate` accepts (e.g. one opened by a command). */
  async waitForQuickInput(predicate: (q: QuickInputState) => boolean = () => true, timeoutMs = 15_000): Promise<QuickInputState> {
    const q = await this.waitFor(
      () => this.quickInput(),
      (v) => v !== undefined && predicate(v),
      {
        timeoutMs,
        what: 'a matching quick input',
      },
    );
    return q as QuickInputState;
  }

  /** Waits for the quick input to show an item labelled `label` and picks it. */
  async pickQuickInputItem(label: string, timeoutMs = 15_000): Promise<void> {
    const row = this.page.locator(QUICK_INPUT_ROWS).filter({ has: this.page.locator('.label-name', { hasText: exactText(label) }) });
    await row.first().click({ timeout: timeoutMs });
  }

  /** Types into the open quick input (replacing its value) and, by default, presses Enter. */
  async typeIntoQuickInput(text: string, options: { submit?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const box = this.page.locator(QUICK_INPUT_BOX);
    await box.waitFor({ state: 'visible', timeout: options.timeoutMs ?? 15_000 });
    await box.fill(text);
    if (options.submit ?? true) await box.press('Enter');
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

  /**
   * Another window of the same code-server on `url` (another `?folder=`): a page of the same
   * browser profile, so that both windows share the user's storage, as two desktop windows do.
   */
  async openWindow(url: string): Promise<Workbench> {
    const page = await this.page.context().newPage();
    const wb = new Workbench(this.browser, page, { ...this.options, ownsBrowser: false });
    try {
      await load(wb, url, this.options.timeoutMs ?? 90_000);
      return wb;
    } catch (err) {
      await wb.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.frameWatch);
    if (this.options.ownsBrowser === false) await this.page.close().catch(() => undefined);
    else await this.browser.close().catch(() => undefined);
  }
}

export function safeFileName(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 120) || 'screenshot'
  );
}

/** Matches an element whose whole text is `s` (surrounding white space aside). */
function exactText(s: string): RegExp {
  return new RegExp(`^\\s*${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/** Launches Chromium, opens `url` and waits for the workbench to be there. */
export async function openWorkbench(url: string, options: WorkbenchOptions = {}): Promise<Workbench> {
  const timeout = options.timeoutMs ?? 90_000;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout });
  try {
    // A context of its own (not browser.newPage()), so that openWindow can add pages to it; with
    // clipboard access, so that what a command copies can be read back (Copy Diagnostics).
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
    const wb = new Workbench(browser, await context.newPage(), options);
    await load(wb, url, timeout);
    return wb;
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

async function load(wb: Workbench, url: string, timeout: number): Promise<void> {
  const page = wb.page;
  await page.exposeFunction('__e2eShown', (where: string, content: string) => void wb.shown.push({ where, content }));
  await page.addInitScript(REPORT_SHOWN_TEXTS);
  await page.goto(url, { timeout });
  await page.locator('.monaco-workbench').waitFor({ state: 'attached', timeout });
  // The activity bar is drawn once the workbench has restored its parts.
  await page.locator('.activitybar .action-item').first().waitFor({ state: 'visible', timeout });
}

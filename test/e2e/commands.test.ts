// Two simulated deployments side by side (one from CODER_URL/CODER_SESSION_TOKEN, one from the
// coder CLI login) and no binding: one root node per deployment, the status bar summarises every
// agent; Copy Agent ID and Open Workspace in Browser act on the node they are invoked on;
// Refresh works; a command with nothing to act on says so as information; and when a deployment goes away the status bar and the view say so, with the
// age of what is shown, instead of showing stale state as live.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSimulator } from '../sim';
import { withE2E, type Workbench } from './harness';

/**
 * Runs a context-menu entry of a tree row. A menu that has just opened ignores the first click
 * (so that releasing the right button does not pick an entry), so the click is repeated until
 * the menu closes.
 */
async function runFromContextMenu(wb: Workbench, row: string, entry: string): Promise<string[]> {
  const entries = await wb.contextMenu(row);
  assert.ok(entries.includes(entry), `no "${entry}" in the menu of "${row}": ${JSON.stringify(entries)}`);
  await wb.page
    .locator('.part.sidebar .monaco-list-row')
    .filter({ has: wb.page.locator('.label-name', { hasText: new RegExp(`^\\s*${row}\\s*$`) }) })
    .first()
    .click({ button: 'right' });
  const item = wb.page.locator(`.monaco-menu .action-item:not(.disabled) .action-label[aria-label="${entry}"]`).first();
  await wb.waitFor(
    async () => {
      if (await item.isVisible()) await item.click({ timeout: 2_000 }).catch(() => undefined);
      return wb.page.locator('.monaco-menu').count();
    },
    (open) => open === 0,
    { what: `the context menu to run "${entry}"`, timeoutMs: 15_000 },
  );
  return entries;
}

test('commands, summary and the offline state', { timeout: 300_000 }, async (t) => {
  const sim = await startSimulator({ fleet: 'empty', clock: 'real' });
  const other = await startSimulator({ fleet: 'empty', clock: 'real' });
  let closed = false;
  t.after(() => sim.close());
  t.after(() => (closed ? undefined : other.close()));
  const dev = sim.createWorkspace({ name: 'dev', agents: [{ name: 'main' }] });
  other.createWorkspace({ name: 'box', agents: [{ name: 'build' }] });
  const devMain = sim.findAgent(dev, 'main');
  assert.ok(devMain);
  const cliDir = mkdtempSync(join(tmpdir(), 'coderv2-'));
  t.after(() => rmSync(cliDir, { recursive: true, force: true }));
  writeFileSync(join(cliDir, 'url'), `${other.url}\n`);
  writeFileSync(join(cliDir, 'session'), other.token, { mode: 0o600 });
  const otherHost = new URL(other.url).host;

  await withE2E(
    t,
    {
      env: { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_CONFIG_DIR: cliDir },
      settings: { 'coderStatus.pollInterval': 2 },
    },
    async ({ wb, server, step }) => {
      await step('one root per deployment; unbound, the status bar summarises the agents', async () => {
        await wb.openView();
        await wb.waitForTreeItem((i) => i.label === 'main' && /ready/.test(i.description), 60_000);
        await wb.waitForTreeItem((i) => i.label === 'build' && /ready/.test(i.description));
        const rows = await wb.treeItems();
        const roots = rows
          .filter((i) => i.level === 1)
          .map((i) => i.label)
          .sort();
        assert.deepEqual(roots, [new URL(sim.url).host, otherHost].sort());
        assert.equal(rows.find((i) => i.label === 'dev')?.level, 2);
        assert.equal(rows.find((i) => i.label === 'main')?.level, 3);
        await wb.waitForStatusBar((i) => i.text.includes('Coder: 2 ready'));
      });

      await step('Copy Agent ID copies the full ID of the node', async () => {
        const entries = await runFromContextMenu(wb, 'main', 'Copy Agent ID');
        assert.ok(entries.includes('Show Agent Details'), JSON.stringify(entries));
        assert.ok(!entries.includes('Open Workspace in Browser'), 'workspace entries are not on agent rows');
        await wb.waitFor(
          () => wb.notifications(),
          (n) => n.some((s) => s.includes(devMain.id)),
          { what: 'the copied-ID notification' },
        );
        assert.match(server.extensionLog(), new RegExp(`copied agent ID ${devMain.id}`));
      });

      await step('Open Workspace in Browser opens the dashboard page of the workspace', async () => {
        const entries = await runFromContextMenu(wb, 'dev', 'Open Workspace in Browser');
        assert.ok(!entries.includes('Copy Agent ID'), 'agent entries are not on workspace rows');
        assert.ok(
          entries.includes('Stop Workspace') && !entries.includes('Start Workspace'),
          `a running workspace can be stopped, not started: ${JSON.stringify(entries)}`,
        );
        await wb.waitFor(
          async () => server.extensionLog(),
          (s) => s.includes(`opening ${sim.url}/@`) && s.includes('/dev'),
          { what: 'the dashboard URL in the log' },
        );
        // The workbench asks before opening an external site; the question names the URL.
        const dialog = wb.page.locator('.monaco-dialog-box');
        if (await dialog.isVisible()) {
          assert.match(await dialog.innerText(), /\/@\w+\/dev/);
          await wb.page.keyboard.press('Escape');
          await dialog.waitFor({ state: 'hidden' });
        }
      });

      await step('Refresh resyncs', async () => {
        await wb.runCommand('Coder Status: Refresh');
        await wb.waitFor(
          async () => server.extensionLog(),
          (s) => s.includes('refresh requested (2 deployment(s))'),
          { what: 'the refresh in the log' },
        );
      });

      await step('a command with nothing to act on says so, as information, not as a logged failure', async () => {
        await wb.runCommand('Notifications: Clear All Notifications');
        await wb.runCommand('Coder Status: Show Agent Details');
        await wb.waitFor(
          () => wb.notifications(),
          (n) => n.some((s) => s.includes('this window is not bound to an agent')),
          { what: 'the refusal' },
        );
        const toast = wb.page.locator('.notifications-toasts .notification-toast', { hasText: 'not bound to an agent' }).first();
        assert.equal(await toast.locator('.codicon-info').count(), 1, 'an information message');
        assert.equal(await toast.getByRole('button', { name: 'Show Logs' }).count(), 0, 'no "Show Logs": nothing failed');
        assert.match(server.extensionLog(), /\[info\] coderStatus\.showDetails: Pick an agent/);
        assert.doesNotMatch(server.extensionLog(), /\[error\]/);
      });

      await step('an unreachable deployment is said, with the age of the state shown', async () => {
        await other.close();
        closed = true;
        const item = await wb.waitForStatusBar((i) => /Coder: offline, state from \d+s ago/.test(i.text), 60_000);
        console.log(`status bar while offline: ${item.text}`);
        // The last known rows stay, under a banner that dates them.
        await wb.waitForTreeItem((i) => i.label === 'build');
        const banner = await wb.waitFor(
          () => wb.page.locator('.part.sidebar .message').first().innerText(),
          (s) => /is unreachable: showing the state from \d+s ago/.test(s),
          { what: 'the offline banner of the view' },
        );
        assert.ok(banner.includes(otherHost), banner);
        assert.ok(!banner.includes(new URL(sim.url).host), 'the reachable deployment is not reported');
        await wb.waitForTreeItem((i) => i.level === 1 && i.label === otherHost && i.description === 'offline');
        await wb.screenshot('offline');
      });
    },
  );
});

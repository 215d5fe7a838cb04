// The bound agent across rebuilds, in the packaged extension inside code-server: bound through
// the workspace environment, a rebuild ends with the new agent shown ready and no user action;
// replay and reinitialize run from the palette and the tree; with reconnect.action = reload the
// window reloads once and comes back on the new agent, and with an unsaved untitled editor and
// hot exit off it asks instead of reloading, also while the agent ID flips every 2 s; the
// "Reconnected" notice is shown by the window that reloaded, not by another window started
// meanwhile in the same user-data directory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSimulator, type Simulator } from '../sim';
import { withE2E, type Workbench } from './harness';

const timings = { agentTimings: { connectMs: 300, startingMs: 300, readyMs: 1500 }, buildTimings: { pendingMs: 300, runningMs: 600 } };
const env = (sim: Simulator) => ({
  CODER_URL: sim.url,
  CODER_SESSION_TOKEN: sim.token,
  CODER_WORKSPACE_NAME: 'dev',
  CODER_WORKSPACE_AGENT_NAME: 'main',
});
const short = (id: string) => id.slice(0, 8);
const ACTIVATING = 'activating coderstatus.coder-workspace-status';

/** Expands the workspace row when VS Code shows it collapsed (it may after its agents came and went). */
async function expandWorkspace(wb: Workbench, name: string): Promise<void> {
  const ws = await wb.waitForTreeItem((i) => i.label === name && i.level === 1, 30_000);
  if (ws.expanded === false) await wb.clickTreeItem(name);
  await wb.waitForTreeItem((i) => i.level === 2, 30_000);
}

async function waitNotification(wb: Workbench, re: RegExp, timeoutMs = 60_000): Promise<string> {
  const all = await wb.waitFor(
    () => wb.notifications(),
    (n) => n.some((m) => re.test(m)),
    { what: `a notification matching ${re}`, timeoutMs },
  );
  return all.find((m) => re.test(m))!;
}

test('a rebuild rebinds by itself; replay and reinitialize run from the palette and the tree', { timeout: 300_000 }, async (t) => {
  const sim = await startSimulator({ clock: 'real', ...timings });
  t.after(() => sim.close());
  const dev = sim.createWorkspace({
    name: 'dev',
    agents: [{ name: 'main', scripts: [{ display_name: 'deps', start_blocks_login: true }] }],
  });
  await withE2E(
    t,
    { env: env(sim), settings: { 'coderStatus.stuckAction': 'none', 'coderStatus.stuckThreshold': 2 } },
    async ({ wb, server, step }) => {
      await step('the status bar shows the bound agent', async () => {
        await wb.openView();
        await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 60_000);
      });

      await step('a rebuild ends on the new agent, ready, with no user action', async () => {
        const oldId = sim.findAgent(dev, 'main').id;
        const started = Date.now();
        sim.scenario('rebuild', dev);
        const notice = await waitNotification(wb, /Reconnected to dev\.main: agent changed after build \d+/);
        const newId = sim.findAgent(dev, 'main').id;
        assert.notEqual(newId, oldId);
        await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 30_000);
        await expandWorkspace(wb, 'dev');
        await wb.waitForTreeItem((i) => i.label === 'main' && i.description.includes(short(newId)), 30_000);
        console.log(`rebuild -> reconnected notice: ${Date.now() - started} ms (${notice})`);
        assert.match(server.extensionLog(), /reconnect: reconnect: agent main/);
        assert.equal(server.extensionLogCount(ACTIVATING), 1, 'no reload in a window that is not a Coder SSH window');
      });

      await step('replay from the palette brings a stuck agent to ready', async () => {
        sim.scenario('surviving-agent', dev);
        await wb.waitForStatusBar((i) => /lifecycle not reported/.test(i.text), 60_000);
        await expandWorkspace(wb, 'dev');
        await wb.waitForTreeItem((i) => i.label === 'main' && /lifecycle not reported/.test(i.description), 60_000);
        await wb.runCommand('Coder Status: Replay Agent Lifecycle');
        await wb.waitForQuickInput((q) => q.items.some((i) => i.includes('dev.main')));
        await wb.pickQuickInputItem('dev.main');
        await waitNotification(wb, /Agent dev\.main is ready after [\d.]+ s/);
        assert.match(server.extensionLog(), /lifecycle replay requested/);
      });

      await step('reinitialize from the tree context menu', async () => {
        await wb.runCommand('Notifications: Clear All Notifications');
        await expandWorkspace(wb, 'dev');
        const labels = await wb.contextMenu('main');
        assert.ok(labels.includes('Reinitialize Agent'), JSON.stringify(labels));
        await wb.contextMenu('main', 'Reinitialize Agent');
        await waitNotification(wb, /Agent dev\.main is ready after [\d.]+ s/);
        assert.match(server.extensionLog(), /reinitialization requested/);
        await wb.screenshot('reconnect-after-reinit');
        assert.ok(!server.extensionHostLog().includes(sim.token), 'the session token is in no extension-host log');
        assert.ok(!(await wb.page.content()).includes(sim.token), 'nor in the page');
      });
    },
  );
});

test(
  'reload action: unsaved editors with hot exit off are never lost; otherwise one reload lands on the new agent',
  { timeout: 300_000 },
  async (t) => {
    const sim = await startSimulator({ clock: 'real', ...timings });
    t.after(() => sim.close());
    const dev = sim.createWorkspace({ name: 'dev' });
    const settings = { 'coderStatus.reconnect.action': 'reload', 'files.hotExit': 'off' };
    await withE2E(t, { env: env(sim), settings }, async ({ wb, server, step }) => {
      await step('bound and ready', async () => {
        await wb.openView();
        await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 60_000);
      });

      await step('with an unsaved untitled editor, the rebuild asks instead of reloading', async () => {
        await wb.runCommand('File: New Untitled Text File');
        await wb.page.keyboard.type('an edit that must survive');
        sim.scenario('rebuild', dev);
        await waitNotification(wb, /would lose 1 unsaved editor/);
        assert.equal(server.extensionLogCount(ACTIVATING), 1, 'no reload happened');
        await wb.clickNotificationButton('would lose 1 unsaved editor', 'Later');
        const text = (await wb.page.locator('.monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
        assert.match(text, /an edit that must survive/);
      });

      await step('an agent ID flipping every 2 s with the editor still unsaved: asked every time, never reloaded', async () => {
        const asks = () => server.extensionLogCount('unsaved editor(s) and files.hotExit is off: asking before reloading');
        const before = asks();
        sim.scenario('flapping', dev, { intervalMs: 2000 });
        for (let i = 1; i <= 3; i++) {
          await wb.waitFor(
            async () => asks(),
            (n) => n >= before + i,
            { what: `ask ${i} while flapping`, timeoutMs: 30_000 },
          );
          await wb.clickNotificationButton('would lose 1 unsaved editor', 'Later');
        }
        sim.scenario('stop-flapping', dev);
        assert.equal(server.extensionLogCount(ACTIVATING), 1, 'no reload happened');
        const text = (await wb.page.locator('.monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
        assert.match(text, /an edit that must survive/);
      });

      await step('without unsaved editors, a rebuild reloads once and comes back on the new agent', async () => {
        await wb.runCommand('View: Revert and Close Editor');
        const oldId = sim.findAgent(dev, 'main').id;
        sim.scenario('rebuild', dev);
        await wb.waitFor(
          async () => server.extensionLogCount(ACTIVATING),
          (n) => n === 2,
          { what: 'the reload', timeoutMs: 60_000 },
        );
        await wb.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
        const newId = sim.findAgent(dev, 'main').id;
        assert.notEqual(newId, oldId);
        await waitNotification(wb, /Reconnected to dev\.main: agent changed after build \d+/);
        await wb.openView();
        await expandWorkspace(wb, 'dev');
        await wb.waitForTreeItem((i) => i.label === 'main' && i.description.includes(short(newId)), 30_000);
        await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 30_000);
        assert.equal(server.extensionLogCount(ACTIVATING), 2, 'exactly one reload');
        assert.ok(!server.extensionHostLog().includes(sim.token), 'the session token is in no extension-host log');
      });
    });
  },
);

test(
  'the "Reconnected" notice belongs to the window that reloads, not to another window started meanwhile',
  { timeout: 300_000 },
  async (t) => {
    const sim = await startSimulator({ clock: 'real', ...timings });
    t.after(() => sim.close());
    const dev = sim.createWorkspace({ name: 'dev' });
    const otherFolder = mkdtempSync(join(tmpdir(), 'coder-status-e2e-other-'));
    t.after(() => rmSync(otherFolder, { recursive: true, force: true }));
    const settings = { 'coderStatus.reconnect.action': 'reload', 'files.hotExit': 'off' };
    await withE2E(t, { env: env(sim), settings }, async ({ wb, server, step }) => {
      let second: Workbench | undefined;
      t.after(() => second?.close());

      await step('bound and ready', async () => {
        await wb.openView();
        await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 60_000);
      });

      // The unsaved editor holds the first window between deciding to reconnect (the notice is
      // stored then) and reloading, so the second window surely starts within the notice's lifetime.
      await step('a rebuild: the first window is about to reload, and asks first', async () => {
        await wb.runCommand('File: New Untitled Text File');
        await wb.page.keyboard.type('unsaved');
        sim.scenario('rebuild', dev);
        await waitNotification(wb, /would lose 1 unsaved editor/);
      });

      await step('a second window on another folder, started meanwhile, shows no "Reconnected" notice', async () => {
        second = await wb.openWindow(`http://127.0.0.1:${server.port}/?folder=${encodeURIComponent(otherFolder)}`);
        await wb.waitFor(
          async () => server.extensionLogCount(ACTIVATING),
          (n) => n === 2,
          { what: 'the second window activating the extension', timeoutMs: 60_000 },
        );
        await second.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 60_000);
        const shown = await second.notifications();
        assert.ok(!shown.some((m) => /Reconnected/.test(m)), JSON.stringify(shown));
      });

      await step('the first window reloads and shows the notice', async () => {
        await wb.clickNotificationButton('would lose 1 unsaved editor', 'Reconnect Anyway');
        await wb.waitFor(
          async () => server.extensionLogCount(ACTIVATING),
          (n) => n === 3,
          { what: 'the reload', timeoutMs: 60_000 },
        );
        await wb.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
        await waitNotification(wb, /Reconnected to dev\.main: agent changed after build \d+/);
        const shown = await second!.notifications();
        assert.ok(!shown.some((m) => /Reconnected/.test(m)), JSON.stringify(shown));
      });
    });
  },
);

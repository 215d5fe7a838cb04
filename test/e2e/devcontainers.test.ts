// Dev containers in the packaged extension inside code-server: the tree shows a workspace's dev
// container under its parent agent, with its status ("configuration changed" when dirty) and its
// sub-agent under it; "Rebuild Dev Container" from the row's menu runs with progress, the
// sub-agent comes back under a new ID and ready, and the container is no longer dirty.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../sim';
import { withE2E, type TreeItem, type Workbench } from './harness';

function row(wb: Workbench, label: string, description: RegExp, timeoutMs = 30_000): Promise<TreeItem> {
  return wb.waitForTreeItem((i) => i.label === label && description.test(i.description), timeoutMs);
}

/** The text of `selector` in the details page's frame (VS Code nests it in two iframes), once it is there. */
async function detailsText(wb: Workbench, selector: string): Promise<string> {
  const read = async (): Promise<string> => {
    for (const f of wb.page.frames()) {
      const t = await f.evaluate((s) => document.querySelector(s)?.textContent ?? '', selector).catch(() => '');
      if (t) return t;
    }
    return '';
  };
  return wb.waitFor(read, (t) => t !== '', { what: `${selector} in the details page`, timeoutMs: 45_000 });
}

test('dev containers: shown with status and sub-agent, rebuilt with progress', { timeout: 300_000 }, async (t) => {
  const sim = await startSimulator({
    fleet: 'empty',
    clock: 'real',
    agentTimings: { connectMs: 500, startingMs: 500, readyMs: 1500 },
    buildTimings: { pendingMs: 300, runningMs: 1500 },
  });
  t.after(() => sim.close());
  const web = sim.createWorkspace({
    name: 'web',
    agents: [
      {
        name: 'main',
        children: [{ name: 'frontend' }],
        devcontainers: [{ name: 'web-app', agent: 'frontend', workspaceFolder: '/home/coder/web', dirty: true }],
      },
    ],
  });
  const oldSub = sim.findAgent(web, 'frontend');
  assert.equal(oldSub.parent_id, sim.findAgent(web, 'main').id);

  await withE2E(
    t,
    {
      env: { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_WORKSPACE_NAME: 'web', CODER_WORKSPACE_AGENT_NAME: 'main' },
      settings: { 'coderStatus.pollInterval': 2 },
    },
    async ({ wb, server, step }) => {
      await step('the tree shows the dev container under its agent, with its status and its sub-agent', async () => {
        await wb.openView();
        const dc = await row(wb, 'web-app', /dev container · running, configuration changed/, 60_000);
        const sub = await row(wb, 'frontend', new RegExp(`ready · connected · ${oldSub.id.slice(0, 8)}`));
        const main = await row(wb, 'main', /ready/);
        assert.equal(main.level, 2);
        assert.equal(dc.level, 3, 'the dev container sits under its parent agent');
        assert.equal(sub.level, 4, 'the sub-agent sits under its dev container');
        assert.equal(dc.icon, 'vm-running');
        await wb.screenshot('devcontainer-tree');
      });

      await step('the details panel of the sub-agent shows its container', async () => {
        const actions = await wb.treeItemActions('frontend');
        assert.ok(actions.includes('Show Agent Details'), JSON.stringify(actions));
        await wb.page
          .locator('.part.sidebar .monaco-list-row')
          .filter({ has: wb.page.locator('.label-name', { hasText: 'frontend' }) })
          .locator('.actions .action-label[aria-label="Show Agent Details"]')
          .first()
          .click();
        assert.equal(await detailsText(wb, '#devcontainer'), 'web-app: running, configuration changed');
        await wb.screenshot('devcontainer-details');
      });

      await step('the container row offers Rebuild Dev Container inline, and first in its menu while dirty', async () => {
        const inline = await wb.treeItemActions('web-app');
        assert.ok(
          inline.some((l) => /Rebuild Dev Container/.test(l)),
          `inline: ${JSON.stringify(inline)}`,
        );
        const menu = await wb.contextMenu('web-app');
        assert.match(menu[0] ?? '', /Rebuild Dev Container/, `menu: ${JSON.stringify(menu)}`);
      });

      await step(
        'Rebuild Dev Container runs with progress; the sub-agent comes back under a new ID, ready',
        async () => {
          const started = Date.now();
          await wb.contextMenu('web-app', 'Rebuild Dev Container');
          await wb.waitFor(
            () => wb.notifications(),
            (n) => n.some((m) => /Rebuilding dev container web-app/.test(m)),
            { what: 'the progress notification', timeoutMs: 15_000 },
          );
          await row(wb, 'web-app', /dev container · starting/, 15_000);
          await wb.waitFor(
            () => wb.notifications(),
            (n) => n.some((m) => /Dev container web-app is rebuilt and ready after/.test(m)),
            { what: 'the ready notification', timeoutMs: 60_000 },
          );
          console.log(`rebuild -> sub-agent ready: ${Date.now() - started} ms`);
          const newSub = sim.findAgent(web, 'frontend');
          assert.notEqual(newSub.id, oldSub.id, 'the simulator gave the sub-agent a new ID');
          const sub = await row(wb, 'frontend', new RegExp(`ready · connected · ${newSub.id.slice(0, 8)}`), 15_000);
          assert.equal(sub.level, 4);
          await row(wb, 'web-app', /^dev container · running$/, 15_000);
          await wb.screenshot('devcontainer-rebuilt');
        },
        { timeout: 120_000 },
      );

      await step('the log tells what happened, without errors', async () => {
        const log = server.extensionLog();
        assert.match(log, /web-app: rebuilt, sub-agent ready after/);
        assert.match(log, new RegExp(`agent ID ${oldSub.id} -> `));
        assert.doesNotMatch(log, /\[error\]/);
      });
    },
  );
});

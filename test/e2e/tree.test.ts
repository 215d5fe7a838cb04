// The live picture, in the packaged extension inside code-server against the simulated
// deployment: the tree lists the workspaces and agents with their lifecycle labels, the status
// bar shows the agent this window is bound to (through CODER_WORKSPACE_NAME /
// CODER_WORKSPACE_AGENT_NAME), a lifecycle change made in the simulator reaches both without any
// user action, and the surviving-agent scenario shows the stuck warning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../sim';
import { withE2E, type TreeItem, type Workbench } from './harness';

const STUCK_THRESHOLD_S = 3;

/** Polls until the tree shows a row labelled `label` whose description matches; returns it. */
function row(wb: Workbench, label: string, description: RegExp, timeoutMs = 30_000): Promise<TreeItem> {
  return wb.waitForTreeItem((i) => i.label === label && description.test(i.description), timeoutMs);
}

test('tree and status bar follow the deployment live', { timeout: 300_000 }, async (t) => {
  const sim = await startSimulator({ fleet: 'empty', clock: 'real' });
  t.after(() => sim.close());
  const dev = sim.createWorkspace({ name: 'dev', agents: [{ name: 'main' }] });
  sim.createWorkspace({ name: 'box', agents: [{ name: 'build' }, { name: 'gpu' }] });
  const devMain = sim.findAgent(dev, 'main');
  assert.ok(devMain, 'the simulator created dev.main');

  await withE2E(
    t,
    {
      env: { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_WORKSPACE_NAME: 'dev', CODER_WORKSPACE_AGENT_NAME: 'main' },
      settings: { 'coderStatus.pollInterval': 2, 'coderStatus.stuckThreshold': STUCK_THRESHOLD_S },
    },
    async ({ wb, server, step }) => {
      await step('the tree lists the workspaces and their agents with lifecycle labels', async () => {
        await wb.openView();
        await row(wb, 'dev', /running/, 60_000);
        await row(wb, 'box', /running/);
        const items = await wb.waitFor(
          () => wb.treeItems(),
          (all) => all.filter((i) => i.level === 2 && /ready/.test(i.description)).length >= 3,
          { what: 'three ready agents', timeoutMs: 60_000 },
        );
        const agents = items.filter((i) => i.level === 2);
        assert.deepEqual(agents.map((i) => i.label).sort(), ['build', 'gpu', 'main']);
        const main = agents.find((i) => i.label === 'main');
        assert.ok(main);
        // What matters first (a narrow sidebar cuts the end): the label, "bound", the short ID last.
        assert.equal(main.description, `ready · bound · connected · ${devMain.id.slice(0, 8)}`, 'the bound agent is marked');
        const build = agents.find((i) => i.label === 'build');
        assert.ok(build && !/bound/.test(build.description), 'only the bound agent is marked');
        assert.equal(main.icon, 'pass-filled');
        await wb.screenshot('tree-ready');
      });

      await step('the status bar shows the bound agent', async () => {
        const item = await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'));
        assert.doesNotMatch(item.text, /offline/);
      });

      await step('a lifecycle change in the simulator shows up without any user action', async () => {
        const started = Date.now();
        sim.setLifecycle(devMain.id, 'starting');
        await row(wb, 'main', /^starting \d/, 15_000);
        await wb.waitForStatusBar((i) => /dev\.main: starting/.test(i.text), 15_000);
        const delay = Date.now() - started;
        console.log(`lifecycle change -> tree and status bar: ${delay} ms`);
        // The elapsed time ticks while the view is shown.
        const first = (await row(wb, 'main', /^starting/)).description;
        await wb.waitFor(
          () => row(wb, 'main', /^starting/).then((i) => i.description),
          (d) => d !== first,
          {
            what: 'the elapsed time to move',
            timeoutMs: 5_000,
          },
        );
        const back = Date.now();
        sim.setLifecycle(devMain.id, 'ready');
        await wb.waitForStatusBar((i) => i.text.includes('dev.main: ready'), 15_000);
        await row(wb, 'main', /^ready · bound · connected/, 15_000);
        console.log(`lifecycle back to ready -> status bar: ${Date.now() - back} ms`);
      });

      await step('the surviving-agent scenario shows the stuck warning', async () => {
        const started = Date.now();
        sim.scenario('surviving-agent', dev);
        const stuck = await row(wb, 'main', /lifecycle not reported/, 60_000);
        console.log(`surviving agent -> stuck warning: ${Date.now() - started} ms (threshold ${STUCK_THRESHOLD_S} s)`);
        assert.equal(stuck.icon, 'warning');
        await wb.waitForStatusBar((i) => /dev\.main: .*lifecycle not reported/.test(i.text), 15_000);
        const labels = await wb.treeItemActions('main');
        assert.ok(
          labels.some((l) => /Replay Agent Lifecycle/.test(l)),
          `the replay action is offered inline: ${JSON.stringify(labels)}`,
        );
        await wb.screenshot('tree-stuck');
      });

      await step('the log tells what happened, and never the token', async () => {
        const log = server.extensionLog();
        assert.match(log, /bound to me\/dev\.main/);
        assert.match(log, /status bar: .*dev\.main: starting/);
        assert.ok(!log.includes(sim.token), 'the session token is not in the log');
        assert.doesNotMatch(log, /\[error\]/);
      });
    },
  );
});

// The doctor in the packaged extension inside code-server, against a simulated deployment that
// behaves like a current real one (no replay or reinitialize route) with a template that keeps its
// agent process across builds: the stuck notice names the cause; Copy Diagnostics puts a report on
// the clipboard with the agent ID and without the token; the next stuck build of the same
// workspace says a restart does not help, and the notice offers no restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../sim';
import { withE2E, type Workbench } from './harness';

const timings = { agentTimings: { connectMs: 300, startingMs: 300, readyMs: 800 }, buildTimings: { pendingMs: 300, runningMs: 600 } };
const STUCK = 'is connected but its lifecycle is stuck';

async function waitNotification(wb: Workbench, re: RegExp, timeoutMs = 60_000): Promise<string> {
  const all = await wb.waitFor(
    () => wb.notifications(),
    (n) => n.some((m) => re.test(m)),
    { what: `a notification matching ${re}`, timeoutMs },
  );
  return all.find((m) => re.test(m))!;
}

test(
  'a stuck agent: the notice names the cause, Copy Diagnostics, and no restart offered the second time',
  { timeout: 300_000 },
  async (t) => {
    const sim = await startSimulator({ clock: 'real', ...timings, operations: { replay: false, reinit: false } });
    t.after(() => sim.close());
    const vm = sim.createWorkspace({ name: 'vm', template: 'suspend-resume-vm', keepsAgentProcess: true });
    await withE2E(
      t,
      {
        env: { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_WORKSPACE_NAME: 'vm', CODER_WORKSPACE_AGENT_NAME: 'main' },
        settings: { 'coderStatus.stuckThreshold': 2 },
      },
      async ({ wb, server, step }) => {
        await step('the bound agent is ready', async () => {
          await wb.openView();
          await wb.waitForStatusBar((i) => i.text.includes('vm.main: ready'), 60_000);
        });

        await step('after a build the agent is stuck, and the notice says why and what fixes it', async () => {
          sim.restartWorkspace(vm);
          const notice = await waitNotification(wb, new RegExp(STUCK));
          assert.match(notice, /survived the build/);
          assert.match(notice, /Restart the workspace/);
          const buttons = await wb.notificationButtons(STUCK);
          assert.ok(buttons.includes('Restart Workspace'), buttons.join(' | '));
          assert.ok(buttons.includes('Copy Diagnostics'), buttons.join(' | '));
        });

        await step('Copy Diagnostics from the notice: the agent ID on the clipboard, the token not', async () => {
          const agentId = sim.findAgent(vm, 'main').id;
          await wb.clickNotificationButton(STUCK, 'Copy Diagnostics');
          await waitNotification(wb, /Diagnostics copied/);
          const text = await wb.waitFor(
            () => wb.clipboardText(),
            (s) => s.includes('Coder Workspace Status diagnostics'),
            { what: 'the report on the clipboard' },
          );
          assert.ok(text.includes(agentId), text);
          assert.ok(text.includes('survived-build'), text);
          assert.ok(!text.includes(sim.token), 'no session token');
        });

        await step('the same on the next build: a restart does not help, and none is offered', async () => {
          sim.restartWorkspace(vm);
          const notice = await waitNotification(wb, /a restart does not help on this template/);
          assert.match(notice, /restarts the agent when the VM resumes/);
          const buttons = await wb.notificationButtons('a restart does not help');
          assert.ok(!buttons.includes('Restart Workspace'), buttons.join(' | '));
          assert.match(server.extensionLog(), /doctor: vm had a stuck agent on builds #3, #5/);
        });

        await step('Replay Agent Lifecycle says in one sentence that the deployment cannot, and asks the route once', async () => {
          const replayRoute = () => sim.stats().requestsByRoute['POST /workspaceagents/{}/lifecycle/replay'] ?? 0;
          for (let i = 0; i < 2; i++) {
            await wb.runCommand('Coder Status: Replay Agent Lifecycle');
            await wb.waitForQuickInput((q) => q.items.some((it) => it.includes('vm.main')));
            await wb.pickQuickInputItem('vm.main');
            await waitNotification(wb, /This deployment cannot replay an agent's lifecycle\./);
            const buttons = await wb.notificationButtons('cannot replay');
            assert.ok(!buttons.includes('Restart Workspace'), `the doctor knows a restart will not help: ${buttons.join(' | ')}`);
            assert.ok(buttons.includes('Copy Diagnostics'), buttons.join(' | '));
            await wb.clickNotificationButton('cannot replay', 'Copy Diagnostics');
            await wb.waitFor(
              () => wb.notifications(),
              (n) => !n.some((m) => m.includes('cannot replay')),
              { what: 'the notice to close' },
            );
          }
          assert.equal(replayRoute(), 1, 'the 404 is remembered: asked once');
        });
      },
    );
  },
);

// The fleet push in the packaged extension inside code-server: with the deployment pushing the
// fleet (tailnet WorkspaceUpdates), an idle window with the view open sends no request to the
// deployment over a minute (WebSocket and yamux pings aside), and the log says which rung serves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../sim';
import { withE2E } from './harness';

const OBSERVATION_MS = 60_000;

test('an idle window with the push on sends no request', { timeout: 300_000 }, async (t) => {
  const sim = await startSimulator({ fleet: 'empty', clock: 'real' });
  t.after(() => sim.close());
  sim.createWorkspace({ name: 'dev', agents: [{ name: 'main' }] });
  for (const name of ['api', 'web', 'db', 'ml']) sim.createWorkspace({ name, agents: [{ name: 'main' }] });

  await withE2E(
    t,
    { env: { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_WORKSPACE_NAME: 'dev', CODER_WORKSPACE_AGENT_NAME: 'main' } },
    async ({ wb, server, step }) => {
      await step('the view shows the fleet, served by the push', async () => {
        await wb.openView();
        await wb.waitFor(
          () => wb.treeItems(),
          (all) => all.filter((i) => i.level === 2 && /ready/.test(i.description)).length === 5,
          { what: 'five ready agents', timeoutMs: 60_000 },
        );
        await wb.waitFor(
          async () => server.extensionLog(),
          (s) => s.includes('fleet served by push: tailnet WorkspaceUpdates push is open'),
          { what: 'the push serving the fleet' },
        );
        // The bound workspace has two streams, the other four one each (and a dev-container watch
        // per agent), the push its session: every upgrade so far is an open stream.
        const upgrades = (s: ReturnType<typeof sim.stats>) =>
          Object.entries(s.requestsByRoute)
            .filter(([k]) => k.startsWith('WS ') && k !== 'WS tailnet')
            .reduce((n, [, v]) => n + v, 0);
        await wb.waitFor(
          async () => sim.stats(),
          (s) => s.openStreams >= 6 && s.openStreams === upgrades(s) && s.tailnetSessions === 1,
          { what: 'every stream open', timeoutMs: 30_000 },
        );
      });

      await step(
        'a minute with the view open: no request',
        async () => {
          const before = sim.stats();
          // The observation window itself: the absence of requests has no event to wait for.
          await new Promise((r) => setTimeout(r, OBSERVATION_MS));
          const after = sim.stats();
          const sent = after.requests - before.requests;
          const routes = Object.entries(after.requestsByRoute)
            .filter(([k, v]) => v !== (before.requestsByRoute[k] ?? 0))
            .map(([k, v]) => `${k} +${v - (before.requestsByRoute[k] ?? 0)}`);
          console.log(`idle window, push on: ${sent} requests in ${OBSERVATION_MS / 1000} s (${routes.join(', ') || 'none'})`);
          assert.equal(sent, 0, routes.join(', '));
          assert.equal(after.tailnetSessionsAccepted, 1, 'the push session stayed up');
        },
        { timeout: OBSERVATION_MS + 30_000 },
      );
    },
  );
});

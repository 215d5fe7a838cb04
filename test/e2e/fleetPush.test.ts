// The fleet push in the packaged extension inside code-server: with the deployment pushing the
// fleet (tailnet WorkspaceUpdates), an idle window with the view open sends no request to the
// deployment over a minute (WebSocket and yamux pings aside), and the log says which rung serves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../sim';
import { withE2E, type CodeServer, type Workbench } from './harness';

/** The tree shows `agents` ready agents and the log says the push serves the fleet. */
async function pushServesTheView(wb: Workbench, server: CodeServer, agents: number): Promise<void> {
  await wb.openView();
  await wb.waitFor(
    () => wb.treeItems(),
    (all) => all.filter((i) => i.level === 2 && /ready/.test(i.description)).length === agents,
    { what: `${agents} ready agents`, timeoutMs: 60_000 },
  );
  await wb.waitFor(
    async () => server.extensionLog(),
    (s) => s.includes('fleet served by push: tailnet WorkspaceUpdates push is open'),
    { what: 'the push serving the fleet' },
  );
}

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
        await pushServesTheView(wb, server, 5);
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

test(
  'workspaces without a stream follow the push: created, stopped, deleted, rebuilt on screen (read once) and out of view (read when shown)',
  { timeout: 300_000 },
  async (t) => {
    const sim = await startSimulator({ fleet: 'empty', clock: 'real' });
    t.after(() => sim.close());
    sim.createWorkspace({ name: 'dev', agents: [{ name: 'main' }] });
    const ids = {
      api: sim.createWorkspace({ name: 'api', agents: [{ name: 'main' }] }),
      web: sim.createWorkspace({ name: 'web', agents: [{ name: 'main' }] }),
    };
    const agentId = (ws: 'api' | 'web') => (sim.findAgent(ids[ws], 'main') as { id?: string } | undefined)?.id ?? '';
    type Logged = { route: string; url: string };
    const reads = (log: Logged[], ws: 'api' | 'web') =>
      log.filter((r) => r.route === 'GET /workspaces/{}' && r.url.endsWith(ids[ws])).length;
    const lists = (log: Logged[]) => log.filter((r) => r.route === 'GET /workspaces').length;

    await withE2E(
      t,
      {
        // Only the bound workspace streams: api and web rest on the push.
        settings: { 'coderStatus.maxLiveWorkspaces': 1 },
        env: { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, CODER_WORKSPACE_NAME: 'dev', CODER_WORKSPACE_AGENT_NAME: 'main' },
      },
      async ({ wb, server, step }) => {
        /** The description of the agent row under a workspace row. */
        const agentRow = async (ws: string) => {
          const items = await wb.treeItems();
          const at = items.findIndex((i) => i.level === 1 && i.label === ws);
          return at < 0 ? '' : (items.slice(at + 1).find((i) => i.level === 2)?.description ?? '');
        };

        await step('the view shows the fleet, served by the push', async () => {
          await pushServesTheView(wb, server, 3);
        });

        await step('a rebuild of a workspace on screen: its new agent shows and is read whole, no list read', async () => {
          const old = agentId('api');
          sim.logRequests(true);
          sim.takeRequestLog();
          const log: Logged[] = [];
          sim.restartWorkspace(ids.api);
          await wb.waitFor(
            async () => {
              log.push(...sim.takeRequestLog());
              return { id: agentId('api'), row: await agentRow('api') };
            },
            (s) => s.id !== '' && s.id !== old && s.row.includes(s.id.slice(0, 8)) && reads(log, 'api') >= 1,
            { what: "api's new agent ID in the tree and its row read", timeoutMs: 60_000 },
          );
          console.log(`rebuild on screen: ${reads(log, 'api')} reads of api, ${lists(log)} list reads`);
          assert.equal(lists(log), 0);
        });

        await step('a workspace created, stopped and deleted at the simulator shows in the tree, no list read', async () => {
          sim.takeRequestLog();
          const log: Logged[] = [];
          const rowOf = async (name: string) => {
            log.push(...sim.takeRequestLog());
            return (await wb.treeItems()).find((i) => i.level === 1 && i.label === name);
          };
          const id = sim.createWorkspace({ name: 'fresh', agents: [{ name: 'main' }] });
          await wb.waitFor(
            () => rowOf('fresh'),
            (row) => row !== undefined,
            { what: 'the new workspace in the tree', timeoutMs: 30_000 },
          );
          sim.build(id, 'stop');
          await wb.waitFor(
            () => rowOf('fresh'),
            (row) => /stopped/.test(row?.description ?? ''),
            {
              what: 'the stop in the tree',
              timeoutMs: 30_000,
            },
          );
          sim.build(id, 'delete');
          await wb.waitFor(
            () => rowOf('fresh'),
            (row) => row === undefined,
            { what: 'the deletion in the tree', timeoutMs: 30_000 },
          );
          console.log(`create/stop/delete in the tree: ${lists(log)} list reads, ${log.length} requests in all`);
          assert.equal(lists(log), 0);
        });

        await step('a rebuild while the view is hidden: no request; shown again, the row is read once', async () => {
          const old = agentId('web');
          await wb.runCommand('View: Show Explorer');
          sim.takeRequestLog();
          sim.restartWorkspace(ids.web);
          await wb.waitFor(
            async () => ({ id: agentId('web'), log: server.extensionLog() }),
            (s) => s.id !== '' && s.id !== old && s.log.includes(`replaced ${old} -> ${s.id} (row patched)`),
            { what: "the push's agent-ID change of web in the log", timeoutMs: 60_000 },
          );
          const hidden = sim.takeRequestLog();
          assert.equal(reads(hidden, 'web'), 0, 'out of view: not read');
          assert.equal(lists(hidden), 0);
          const shown: Logged[] = [];
          await wb.openView();
          await wb.waitFor(
            async () => {
              shown.push(...sim.takeRequestLog());
              return agentRow('web');
            },
            (row) => row.includes(agentId('web').slice(0, 8)) && reads(shown, 'web') >= 1,
            { what: "web's new agent in the tree and its row read", timeoutMs: 30_000 },
          );
          console.log(
            `rebuild out of view: 0 requests while hidden; shown again: ${reads(shown, 'web')} reads, ${lists(shown)} list reads`,
          );
          assert.equal(reads(shown, 'web'), 1);
          assert.equal(lists(shown), 0);
        });
      },
    );
  },
);

/**
 * The fleet push (tailnet WorkspaceUpdates) against the simulator: the core sends nothing while
 * idle, sees workspaces come and go and agents change with no list request, falls back to the
 * list poll where the push is not offered, signs out once on a 401, and stays equal to the
 * server over deployment restarts. Counts come from the simulator's request log.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/common/clock';
import { BindingTracker } from '../../src/model/binding';
import type { ReconnectEvent } from '../../src/model/reconnect';
import type { Change } from '../../src/model/types';
import { BindingFollower } from '../../src/sync/bindingFollower';
import { startSimulator, type SimOptions, type Simulator, type TailnetMode } from '../sim';
import { startBoundCore, startCore, type Core } from './core';

const fast: SimOptions = { agentTimings: { connectMs: 30, startingMs: 30, readyMs: 100 }, buildTimings: { pendingMs: 30, runningMs: 60 } };

const route = (sim: Simulator, r: string) => sim.stats().requestsByRoute[r] ?? 0;
const lists = (sim: Simulator) => route(sim, 'GET /workspaces');
const pushServes = (core: Core) => core.fleet.fleetRung?.rung === 'push';

async function withPush(t: TestContext, opts: SimOptions = {}, count = 5): Promise<{ sim: Simulator; core: Core; ids: string[] }> {
  const sim = await startSimulator({ clock: 'real', ...fast, ...opts });
  t.after(() => sim.close());
  const ids = Array.from({ length: count }, (_, i) => sim.createWorkspace({ name: `ws${i}` }));
  // A short reconnect spread (as in the restart tests of reliability/): the spread itself is tested in reconnectSpread.test.ts.
  const core = startCore(sim, {}, { fleetPush: true, spreadWindowMs: 500 });
  t.after(() => core.dispose());
  await core.until(() => pushServes(core) && core.fleet.size === count, 'the push serving the fleet');
  return { sim, core, ids };
}

test('with the push up, an idle core sends no request over an observation window', async (t) => {
  const { sim, core } = await withPush(t);
  await core.until(() => sim.stats().openStreams === core.sync.liveWorkspaces.length, 'the live streams open');
  const before = sim.stats().requests;
  const window = 5000;
  await new Promise((r) => setTimeout(r, window)); // an observation window: the absence of requests has no signal of its own
  const sent = sim.stats().requests - before;
  console.log(
    `# idle with the push: ${sent} requests in ${window} ms, ${sim.stats().tailnetSessions} tailnet session, list reads ${lists(sim)}`,
  );
  assert.equal(sent, 0);
  assert.equal(lists(sim), 1, 'the list read at activation only');
});

test('a workspace created, stopped and deleted at the simulator shows in the model with no list request in between', async (t) => {
  const { sim, core } = await withPush(t);
  const before = lists(sim);
  const id = sim.createWorkspace({ name: 'fresh' });
  await core.until(() => core.fleet.workspace(id) !== undefined, 'the new workspace');
  sim.build(id, 'stop');
  await core.until(() => core.fleet.workspace(id)?.latest_build.status === 'stopped', 'the stop');
  assert.equal(core.fleet.agentsOf(id).length, 0);
  sim.build(id, 'delete');
  await core.until(() => core.fleet.workspace(id) === undefined, 'the deletion');
  assert.equal(lists(sim), before, 'no list request');
  console.log(`# create/stop/delete by push: ${route(sim, 'GET /workspaces/{}')} workspace reads, ${lists(sim) - before} list reads`);
});

test('rebuilds of workspaces out of the live set and out of view: the model follows the push with no request', async (t) => {
  const sim = await startSimulator({ clock: 'real', ...fast });
  t.after(() => sim.close());
  const ids = Array.from({ length: 4 }, (_, i) => sim.createWorkspace({ name: `ws${i}` }));
  const core = startCore(sim, { maxLiveWorkspaces: 1 }, { fleetPush: true });
  t.after(() => core.dispose());
  await core.until(
    () => pushServes(core) && core.fleet.size === 4 && core.log.lines.some((l) => l.includes('fleet push: snapshot')),
    'the push serving the fleet, its snapshot in',
  );
  await core.until(() => sim.stats().openStreams === 1, 'the one live stream open');
  const out = ids.filter((id) => !core.sync.liveWorkspaces.includes(id));
  assert.equal(out.length, 3);
  const agentIds = (id: string) => core.fleet.agentsOf(id).map((a) => a.id);
  const serverId = (id: string) => (sim.findAgent(id, 'main') as { id?: string } | undefined)?.id;
  await core.until(() => out.every((id) => agentIds(id).join() === serverId(id)), 'the model equal to the server');
  const before = sim.stats().requests;
  for (const id of out) sim.restartWorkspace(id);
  await core.until(
    () => out.every((id) => core.fleet.workspace(id)?.latest_build.status === 'running' && agentIds(id).join() === serverId(id)),
    'the new agent IDs in the model',
    15_000,
  );
  assert.equal(sim.stats().requests - before, 0, 'no request: the push carried it all');
  for (const id of out)
    assert.equal(core.fleet.unstreamedAge(id, Date.now()) !== undefined, true, 'the rows say their lifecycle is as old as the last read');
  console.log(`# rebuilds out of view: ${out.length} workspaces, ${sim.stats().requests - before} requests`);
});

test('a rebuild of a workspace outside the live set reaches the binding follower as an agent-ID change, with no list request', async (t) => {
  // No per-workspace stream: the bound workspace is fed by REST reads the push asks for.
  const sim = await startSimulator({ clock: 'real', ...fast, streams: { connectionWatch: false, watchWs: false, sse: false } });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const core = startBoundCore(t, sim, id, {}, { fleetPush: true });
  const events: ReconnectEvent[] = [];
  const follower = new BindingFollower(core.fleet, new BindingTracker(systemClock), { dispatch: (e) => events.push(e) });
  const changes: Change[] = [];
  core.sync.onChanges((c) => {
    changes.push(...c);
    follower.onChanges(c);
  });
  // The first build done (what the push says and the model holds agree), the workspace on no stream.
  await core.until(
    () =>
      pushServes(core) &&
      core.log.lines.some((l) => l.includes('fleet push: snapshot')) &&
      core.fleet.rung(id) === 'poll' &&
      core.fleet.workspace(id)?.latest_build.status === 'running',
    'the workspace running',
  );
  follower.follow({ workspaceId: id, name: 'main', parentName: null });
  const oldId = sim.findAgent(id, 'main').id as string;
  const before = lists(sim);
  sim.restartWorkspace(id);
  await core.until(() => events.some((e) => e.type === 'id-changed'), 'the agent-ID change at the follower', 15_000);
  const newId = sim.findAgent(id, 'main').id as string;
  assert.notEqual(newId, oldId);
  assert.deepEqual(
    events.filter((e) => e.type === 'id-changed').map((e) => e.type === 'id-changed' && [e.oldId, e.newId]),
    [[oldId, newId]],
  );
  // REST rows name the new agent before the push does (its upsert comes with the running build):
  // the follower saw it on a read; the push's pairing then reports the change once more for the log.
  await core.until(
    () => changes.some((c) => c.kind === 'agent-id-changed' && c.oldId === oldId && c.newId === newId),
    'the paired agent-ID change',
  );
  assert.equal(events.filter((e) => e.type === 'id-changed').length, 1, 'one decision input, not two');
  assert.equal(lists(sim), before, 'no list request');
  console.log(`# rebuild outside the live set: ${route(sim, 'GET /workspaces/{}')} workspace reads, no list read`);
});

const refusals: [TailnetMode, number][] = [
  ['absent', 404],
  ['old-server', 400],
  ['browser-only', 409],
  ['refused', 403],
];
for (const [mode, status] of refusals) {
  test(`push answering ${status} (${mode}): everything works by polling and the log says why`, async (t) => {
    const sim = await startSimulator({ clock: 'real', ...fast, tailnet: { mode } });
    t.after(() => sim.close());
    sim.createWorkspace({ name: 'dev' });
    const core = startCore(sim, { pollIntervalMs: 500 }, { fleetPush: true });
    t.after(() => core.dispose());
    await core.until(() => /unavailable/.test(core.fleet.fleetRung?.reason ?? ''), 'the refusal');
    assert.equal(core.fleet.fleetRung?.rung, 'poll');
    assert.match(core.fleet.fleetRung.reason, new RegExp(`HTTP ${status}`));
    const line = core.log.lines.find((l) => l.includes('fleet push: unavailable'));
    assert.ok(line, 'a log line says why');
    console.log(`# ${mode}: ${line}`);
    const id = sim.createWorkspace({ name: 'later' });
    await core.until(() => core.fleet.workspace(id) !== undefined, 'a new workspace by the list poll');
    assert.equal(core.fleet.connection.kind, 'live');
    assert.equal(route(sim, 'WS tailnet'), 1, 'asked once, remembered');
  });
}

test('a 401 on the tailnet upgrade signs the deployment out once, and nothing is sent after', async (t) => {
  // No per-workspace stream: the push session is the only socket, so its upgrade meets the 401.
  const { sim, core } = await withPush(t, { streams: { connectionWatch: false, watchWs: false, sse: false } }, 2);
  let transitions = 0;
  core.sync.onChanges((c) => (transitions += c.filter((x) => x.kind === 'connection-changed' && x.state.kind === 'signed-out').length));
  sim.fault('expire-token');
  sim.fault('drop-streams');
  await core.until(() => core.fleet.connection.kind === 'signed-out', 'signed out', 15_000);
  assert.ok(
    core.log.lines.some((l) => l.includes('push refused, signed out')),
    'the push upgrade is what was refused',
  );
  await core.until(() => sim.stats().tailnetSessions === 0, 'the push closed');
  const before = sim.stats().requests;
  await new Promise((r) => setTimeout(r, 3000)); // an observation window for the absence of requests
  assert.equal(sim.stats().requests, before, 'no request after the sign-out');
  assert.equal(transitions, 1);
});

test('deployment restarts with the push serving the fleet: the model equals the server after each', async (t) => {
  const cycles = process.env['SOAK'] ? 200 : 50;
  const { sim, core, ids } = await withPush(t, {}, 6);
  type Row = { id: string; latest_build: { status: string; resources: { agents: { id: string }[] }[] } };
  const live = new Set(ids);
  const serverView = () =>
    [...live]
      .map((id) => sim.getWorkspace(id) as Row)
      .map(
        (w) =>
          `${w.id}:${w.latest_build.status}:${w.latest_build.resources
            .flatMap((r) => r.agents.map((a) => a.id))
            .sort()
            .join(',')}`,
      )
      .sort()
      .join('\n');
  const modelView = () =>
    core.fleet
      .workspaces()
      .map(
        (w) =>
          `${w.id}:${w.latest_build.status}:${core.fleet
            .agentsOf(w.id)
            .map((a) => a.id)
            .sort()
            .join(',')}`,
      )
      .sort()
      .join('\n');
  let worst = 0;
  let divergences = 0;
  for (let i = 0; i < cycles; i++) {
    await sim.stop();
    // What changes while the deployment is down must come with the snapshot after it.
    const victim = ids[i % ids.length]!;
    if (i % 3 === 0) sim.restartWorkspace(victim);
    if (i % 7 === 0) live.add(sim.createWorkspace({ name: `new${i}` }));
    await sim.listen();
    const back = Date.now();
    await core
      .until(() => sim.stats().tailnetSessions === 1 && modelView() === serverView(), 'the model equal to the server', 40_000)
      .catch(() => divergences++);
    worst = Math.max(worst, Date.now() - back);
  }
  console.log(`# push restarts: ${cycles} cycles, ${divergences} divergences, worst convergence ${worst} ms, list reads ${lists(sim)}`);
  assert.equal(divergences, 0);
});

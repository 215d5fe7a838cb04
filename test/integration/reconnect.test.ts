/**
 * The bound agent against the simulator: api + sync + model + the reconnect state machine,
 * over real sockets. Decisions are counted; repairs are performed the way the extension does.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/common/clock';
import { isUnsupported } from '../../src/api/errors';
import { BindingTracker } from '../../src/model/binding';
import { OperationSupport, type RepairOp } from '../../src/model/operations';
import type { Decision, ReconnectSettings } from '../../src/model/reconnect';
import { ReconnectRunner } from '../../src/sync/reconnectRunner';
import { BindingFollower } from '../../src/sync/bindingFollower';
import { startSimulator, type SimOptions } from '../sim';
import { startBoundCore } from './core';

const fast: SimOptions = { agentTimings: { connectMs: 30, startingMs: 30, readyMs: 150 }, buildTimings: { pendingMs: 30, runningMs: 60 } };

async function setup(t: TestContext, settings: Partial<ReconnectSettings>, simOpts: SimOptions = {}) {
  const sim = await startSimulator({ ...fast, ...simOpts });
  t.after(() => sim.close());
  const id = sim.createWorkspace({
    name: 'dev',
    agents: [{ name: 'main', scripts: [{ display_name: 'deps', start_blocks_login: true }] }],
  });
  const core = startBoundCore(t, sim, id);
  const operations = new OperationSupport();
  const machine = new ReconnectRunner({ clock: systemClock, settings, support: (op) => operations.get(sim.url, op) });
  t.after(() => machine.dispose());
  const decisions: { d: Decision; simLifecycle: string | undefined; at: number }[] = [];
  machine.onDecision((d) => decisions.push({ d, simLifecycle: sim.findAgent(id, 'main')?.lifecycle_state, at: Date.now() }));
  const follower = new BindingFollower(core.fleet, new BindingTracker(systemClock), machine);
  core.sync.onChanges((c) => follower.onChanges(c));
  await core.until(() => !!core.fleet.findAgent(id, 'main', null), 'the workspace');
  follower.follow({ workspaceId: id, name: 'main', parentName: null });
  /** Asks the deployment for the repair the way the extension does, remembering what it lacks. */
  const repair = (op: RepairOp, agentId: string) => {
    const call = op === 'replay' ? core.client.replayLifecycle(agentId) : core.client.reinitializeAgent(agentId);
    void call.then(
      () => {
        operations.record(sim.url, op, 'supported');
        machine.dispatch({ type: 'repair-result', op, outcome: 'started' });
      },
      (e: unknown) => {
        if (isUnsupported(e)) operations.record(sim.url, op, 'unsupported');
        machine.dispatch({ type: 'repair-result', op, outcome: isUnsupported(e) ? 'unsupported' : 'failed' });
      },
    );
  };
  return { sim, id, core, machine, operations, repair, decisions, kinds: () => decisions.map((x) => x.d.kind) };
}

test('a rebuild produces exactly one reconnect decision, after the new agent is ready', async (t) => {
  const { sim, id, core, decisions, kinds } = await setup(t, {});
  const oldId = sim.findAgent(id, 'main').id;
  sim.scenario('rebuild', id);
  await core.until(() => kinds().includes('reconnect'), 'the reconnect decision');
  const newId = sim.findAgent(id, 'main').id;
  assert.notEqual(newId, oldId);
  // Let the stream settle: no second decision may follow.
  await core.until(() => core.fleet.findAgent(id, 'main', null)?.lifecycle_state === 'ready', 'ready in the model');
  await new Promise((r) => setTimeout(r, 300));
  const reconnects = decisions.filter((x) => x.d.kind === 'reconnect');
  assert.equal(reconnects.length, 1);
  assert.equal(reconnects[0]!.simLifecycle, 'ready', 'blocking startup: the decision waits for ready');
  assert.equal(reconnects[0]!.d.kind === 'reconnect' && reconnects[0]!.d.agentId, newId);
});

test('the surviving agent is detected within the threshold plus one second, and a replay brings it to ready', async (t) => {
  const threshold = 1000;
  const { sim, id, core, machine, repair, decisions, kinds } = await setup(t, { stuckAction: 'replay', stuckThresholdMs: threshold });
  machine.onDecision((d) => {
    if (d.kind === 'replay') repair('replay', d.agentId);
  });
  sim.scenario('surviving-agent', id);
  await core.until(() => kinds().includes('stuck'), 'the stuck decision', 10_000);
  const connectedAt = Date.parse(sim.findAgent(id, 'main').first_connected_at);
  const stuck = decisions.find((x) => x.d.kind === 'stuck')!;
  const delay = stuck.at - connectedAt;
  console.log(`# surviving agent: stuck reported ${delay} ms after it connected (threshold ${threshold} ms)`);
  assert.ok(delay <= threshold + 1000, `${delay} ms`);
  await core.until(() => kinds().includes('reconnect'), 'the reconnect after the replay');
  assert.equal(sim.findAgent(id, 'main').lifecycle_state, 'ready');
  assert.deepEqual(
    kinds().filter((k) => k !== 'waiting'),
    ['stuck', 'replay', 'reconnect'],
  );
});

test('without replay and reinit on the deployment, the restart fallback is offered', async (t) => {
  const { sim, id, machine, operations, repair, kinds } = await setup(
    t,
    { stuckAction: 'replay', stuckThresholdMs: 300 },
    { operations: { replay: false, reinit: false } },
  );
  machine.onDecision((d) => {
    if (d.kind === 'replay' || d.kind === 'reinitialize') repair(d.kind, d.agentId);
  });
  const offered = new Promise<void>((resolve) => machine.onDecision((d) => d.kind === 'offer-restart' && resolve()));
  sim.scenario('surviving-agent', id);
  await offered;
  assert.deepEqual(
    kinds().filter((k) => k !== 'waiting'),
    ['stuck', 'replay', 'reinitialize', 'offer-restart'],
  );
  assert.ok(operations.get(sim.url, 'replay') === 'unsupported' && operations.get(sim.url, 'reinitialize') === 'unsupported');
});

/**
 * The doctor and the repair offers against the simulator, over real sockets: a template that
 * keeps its agent process across builds (the second stuck build is diagnosed as "a restart does
 * not help", with no restart offered, across a restart of the core as a reload restarts the
 * extension), and the repair routes a deployment answered 404 on, remembered across a reload and
 * probed again after an upgrade. What the UI persists is carried over as JSON, as the stored state does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoderApiError } from '../../src/api/errors';
import { diagnose, observeStuck, parseStuckRecord, restartHelps, type StuckRecord } from '../../src/model/doctor';
import { OperationSupport } from '../../src/model/operations';
import { repairOffers } from '../../src/model/repairOffers';
import { startSimulator, type SimOptions } from '../sim';
import { startCore, type Core } from './core';

const fast: SimOptions = { agentTimings: { connectMs: 30, startingMs: 30, readyMs: 60 }, buildTimings: { pendingMs: 30, runningMs: 60 } };
const THRESHOLD = 300;

/** Restarts the workspace the way the extension does: a stop build, then a start build once it succeeded. */
async function restart(core: Core, workspaceId: string): Promise<number> {
  const stop = await core.client.createBuild(workspaceId, 'stop');
  await core.until(() => {
    const b = core.fleet.workspace(workspaceId)?.latest_build;
    return !!b && b.build_number === stop.build_number && b.job.status === 'succeeded';
  }, 'the stop build');
  return (await core.client.createBuild(workspaceId, 'start')).build_number;
}

/** Waits until the model's agent of `build` is stuck past the threshold, feeding the record as the UI does. */
async function stuckRecord(core: Core, id: string, build: number, record: StuckRecord | undefined): Promise<StuckRecord> {
  let r = record;
  await core.until(
    () => {
      const ws = core.fleet.workspace(id);
      if (!ws || ws.latest_build.build_number !== build) return false;
      r = observeStuck(r, ws, Date.now(), THRESHOLD, (a) => core.fleet.stuckSince(a));
      return r?.builds.includes(build) === true;
    },
    `a stuck agent on build #${build}`,
    15_000,
  );
  return r!;
}

test('a template that keeps its agent process: the second stuck build says a restart does not help, across a core restart', async (t) => {
  const sim = await startSimulator({ ...fast, operations: { replay: false, reinit: false } });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'vm', template: 'suspend-resume-vm', keepsAgentProcess: true });
  const ops = new OperationSupport();
  ops.setServerVersion(sim.url, 'v2.24.1+sim');
  ops.recordAnswer(sim.url, 'replay', 404);
  ops.recordAnswer(sim.url, 'reinitialize', 404);
  const support = (op: 'replay' | 'reinitialize') => ops.get(sim.url, op);

  const first = startCore(sim);
  t.after(() => first.dispose());
  await first.until(() => first.fleet.findAgent(id, 'main', null)?.lifecycle_state === 'ready', 'the first build ready');
  const b1 = await restart(first, id);
  const record1 = await stuckRecord(first, id, b1, undefined);
  const ws1 = first.fleet.workspace(id)!;
  const agent1 = first.fleet.findAgent(id, 'main', null)!;
  assert.equal(agent1.status, 'connected');
  assert.equal(agent1.lifecycle_state, 'created');
  const d1 = diagnose({
    workspace: ws1,
    agent: agent1,
    now: Date.now(),
    stuckThresholdMs: THRESHOLD,
    stuckSince: first.fleet.stuckSince(agent1.id),
    record: record1,
  });
  assert.equal(d1[0]?.code, 'survived-build');
  assert.deepEqual(repairOffers({ support, devContainerRecreate: false, restartHelps: restartHelps(d1) }), ['restart']);

  // The restart from the extension; the reload it causes restarts the core with what was persisted.
  const b2 = await restart(first, id);
  const stored: unknown = JSON.parse(JSON.stringify(record1));
  first.dispose();
  const second = startCore(sim);
  t.after(() => second.dispose());
  const record2 = await stuckRecord(second, id, b2, parseStuckRecord(stored));
  const ws2 = second.fleet.workspace(id)!;
  const agent2 = second.fleet.findAgent(id, 'main', null)!;
  assert.notEqual(agent2.id, agent1.id, 'a new agent row');
  const d2 = diagnose({
    workspace: ws2,
    agent: agent2,
    now: Date.now(),
    stuckThresholdMs: THRESHOLD,
    stuckSince: second.fleet.stuckSince(agent2.id),
    record: record2,
  });
  assert.equal(d2[0]?.code, 'survives-restarts');
  assert.equal(d2[0]?.fix, 'template-restarts-agent');
  assert.equal(d2[0]?.values.earlierBuild, b1);
  assert.equal(restartHelps(d2), false);
  assert.deepEqual(repairOffers({ support, devContainerRecreate: false, restartHelps: restartHelps(d2) }), [], 'no restart offered');
  console.log(`# keeps-process template: stuck on builds #${record2.builds.join(', #')}; second diagnosis ${d2[0]?.code}`);
});

test('repair routes answered 404 are not asked again after a reload, and are probed again after an upgrade', async (t) => {
  const sim = await startSimulator({ ...fast, operations: { replay: false, reinit: false } });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const core = startCore(sim);
  t.after(() => core.dispose());
  await core.until(() => !!core.fleet.findAgent(id, 'main', null), 'the workspace');
  const agentId = core.fleet.findAgent(id, 'main', null)!.id;
  const replayRoute = () => sim.stats().requestsByRoute['POST /workspaceagents/{}/lifecycle/replay'] ?? 0;

  /** What requestRepair does: ask only when the memory does not know the route is missing. */
  const tryReplay = async (ops: OperationSupport): Promise<void> => {
    if (ops.get(sim.url, 'replay') === 'unsupported') return;
    try {
      ops.recordAnswer(sim.url, 'replay', (await core.client.replayLifecycle(agentId)).status);
    } catch (e) {
      assert.ok(e instanceof CoderApiError);
      ops.recordAnswer(sim.url, 'replay', e.status);
    }
  };
  /** What the session does once it knows the server version. */
  const learnVersion = async (ops: OperationSupport) => ops.setServerVersion(sim.url, (await core.client.buildInfo()).version);
  const offers = (ops: OperationSupport) =>
    repairOffers({ support: (op) => ops.get(sim.url, op), devContainerRecreate: false, restartHelps: true });

  let ops = new OperationSupport();
  await learnVersion(ops);
  await tryReplay(ops);
  assert.equal(ops.get(sim.url, 'replay'), 'unsupported');
  assert.equal(replayRoute(), 1);
  assert.deepEqual(offers(ops), ['reinitialize', 'restart']);

  // A reload: the memory comes back from storage, the route is not asked again.
  ops = OperationSupport.fromJSON(JSON.parse(JSON.stringify(ops)));
  await learnVersion(ops);
  await tryReplay(ops);
  await tryReplay(ops);
  assert.equal(replayRoute(), 1, 'probed once per deployment and server version');

  // The deployment is upgraded and now has the route: the memory is dropped and the route works.
  sim.setVersion('v2.30.0+sim');
  sim.setOperations({ replay: true });
  ops = OperationSupport.fromJSON(JSON.parse(JSON.stringify(ops)));
  await learnVersion(ops);
  assert.equal(ops.get(sim.url, 'replay'), 'unknown');
  await tryReplay(ops);
  assert.equal(ops.get(sim.url, 'replay'), 'supported');
  assert.equal(replayRoute(), 2);
});

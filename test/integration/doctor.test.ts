/**
 * The doctor and the repair offers against the simulator, over real sockets: a template that
 * keeps its agent process across builds (the second stuck build is diagnosed as "a restart does
 * not help", with no restart offered, across a restart of the core as a reload restarts the
 * extension), and the repair routes a deployment answered 404 on, remembered across a reload and
 * probed again after an upgrade. What the UI persists is carried over as JSON, as globalState does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoderApiError } from '../../src/api/errors';
import { diagnose, observeStuck, parseStuckRecord, restartHelps, type StuckRecord } from '../../src/model/doctor';
import { noteAnswer, repairOffers, routesFor, supportOf, type RouteMemory } from '../../src/model/repairOffers';
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
  const routes: RouteMemory = noteAnswer(noteAnswer(routesFor(undefined, 'v2.24.1+sim'), 'replay', 404), 'reinitialize', 404);

  const first = startCore(sim);
  t.after(() => first.dispose());
  await first.until(() => first.fleet.findAgent(id, 'main', null)?.lifecycle_state === 'ready', 'the first build ready');
  const b1 = await restart(first, id);
  const record1 = await stuckRecord(first, id, b1, undefined);
  const ws1 = first.fleet.workspace(id)!;
  const agent1 = first.fleet.findAgent(id, 'main', null)!;
  assert.equal(agent1.status, 'connected');
  assert.equal(agent1.lifecycle_state, 'created');
  const d1 = diagnose({ workspace: ws1, agent: agent1, now: Date.now(), stuckThresholdMs: THRESHOLD, record: record1 });
  assert.equal(d1[0]?.code, 'survived-build');
  assert.deepEqual(repairOffers({ routes, devContainerRecreate: false, restartHelps: restartHelps(d1) }), ['restart']);

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
  assert.deepEqual(repairOffers({ routes, devContainerRecreate: false, restartHelps: restartHelps(d2) }), [], 'no restart offered');
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
  const tryReplay = async (mem: RouteMemory): Promise<RouteMemory> => {
    if (supportOf(mem, 'replay') === 'unsupported') return mem;
    try {
      const r = await core.client.replayLifecycle(agentId);
      return noteAnswer(mem, 'replay', r.status);
    } catch (e) {
      assert.ok(e instanceof CoderApiError);
      return noteAnswer(mem, 'replay', e.status);
    }
  };

  const version = (await core.client.buildInfo()).version;
  let mem = await tryReplay(routesFor(undefined, version));
  assert.equal(supportOf(mem, 'replay'), 'unsupported');
  assert.equal(replayRoute(), 1);
  assert.deepEqual(repairOffers({ routes: mem, devContainerRecreate: false, restartHelps: true }), ['reinitialize', 'restart']);

  // A reload: the memory comes back from storage, the route is not asked again.
  const stored: unknown = JSON.parse(JSON.stringify(mem));
  mem = await tryReplay(routesFor(stored, (await core.client.buildInfo()).version));
  mem = await tryReplay(mem);
  assert.equal(replayRoute(), 1, 'probed once per deployment and server version');

  // The deployment is upgraded and now has the route: the memory is dropped and the route works.
  sim.setVersion('v2.30.0+sim');
  sim.setOperations({ replay: true });
  const upgraded = routesFor(JSON.parse(JSON.stringify(mem)), (await core.client.buildInfo()).version);
  assert.equal(supportOf(upgraded, 'replay'), 'unknown');
  mem = await tryReplay(upgraded);
  assert.equal(supportOf(mem, 'replay'), 'supported');
  assert.equal(replayRoute(), 2);
});

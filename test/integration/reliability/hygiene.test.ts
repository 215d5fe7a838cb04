/**
 * Resource hygiene of the headless core, and the reconnect loop cap against a simulator whose
 * agent ID flips by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../src/common/clock';
import { BindingTracker } from '../../../src/model/binding';
import { ReconnectMachine } from '../../../src/model/reconnect';
import { BindingFollower } from '../../../src/sync/bindingFollower';
import { startSimulator } from '../../sim';
import { startCore } from '../core';

/** Active handles by kind, without the ones node:test itself holds. */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

const settle = () => new Promise((r) => setTimeout(r, 300));

test('subscribe/unsubscribe and start/dispose cycles leave no handle, timer or socket behind', async (t) => {
  const cycles = { subs: 1000, cores: 100 };
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const ids = sim.createFleet(30);
  await settle();
  const baseline = handles();
  const heapBefore = process.memoryUsage().heapUsed;

  const core = startCore(sim, { maxLiveWorkspaces: 5 });
  await core.until(() => core.fleet.size === 30, 'the fleet');
  for (let i = 0; i < cycles.subs; i++) core.sync.setVisibleWorkspaces(i % 2 ? [ids[i % 30]!, ids[(i + 7) % 30]!] : []);
  core.sync.setVisibleWorkspaces([]);
  await core.until(() => sim.stats().openStreams <= 5, 'the live set back to its cap', 20_000);
  core.dispose();

  for (let i = 0; i < cycles.cores; i++) {
    const c = startCore(sim);
    await c.until(() => c.fleet.size === 30, 'the fleet');
    c.dispose();
  }
  await sim.stop();
  await settle();
  const after = handles();
  const heapAfter = process.memoryUsage().heapUsed;
  console.log(`# hygiene: ${cycles.subs} live-set changes, ${cycles.cores} core start/dispose cycles; handles before ${JSON.stringify(baseline)} after ${JSON.stringify(after)}; heap ${(heapBefore / 2 ** 20).toFixed(1)} -> ${(heapAfter / 2 ** 20).toFixed(1)} MB`);
  for (const kind of ['Timeout', 'TCPSocketWrap', 'TCPWRAP']) {
    assert.ok((after[kind] ?? 0) <= (baseline[kind] ?? 0), `${kind}: ${after[kind]} > ${baseline[kind]}`);
  }
  assert.ok(heapAfter - heapBefore < 64 * 2 ** 20, 'memory stays flat (generous bound)');
});

test('an agent ID flipping every 300 ms: at most 3 automatic reconnects, then the user is asked', async (t) => {
  const sim = await startSimulator({ clock: 'real', agentTimings: { connectMs: 5, startingMs: 5, readyMs: 5 } });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const core = startCore(sim);
  t.after(() => core.dispose());
  core.sync.setBoundWorkspace(id);
  core.sync.setBoundAgentName(id, 'main');
  await core.until(() => !!core.fleet.findAgent(id, 'main', null), 'the workspace');
  const machine = new ReconnectMachine({ clock: systemClock });
  t.after(() => machine.dispose());
  const kinds: string[] = [];
  machine.onDecision((d) => {
    kinds.push(d.kind);
    if (d.kind === 'reconnect') machine.reconnected();
  });
  const follower = new BindingFollower(core.fleet, new BindingTracker(systemClock), machine);
  core.sync.onChanges((c) => follower.onChanges(c));
  follower.follow({ workspaceId: id, name: 'main', parentName: null });
  sim.scenario('flapping', id, { intervalMs: 300 });
  await core.until(() => kinds.includes('ask-loop-cap'), 'the loop cap', 20_000);
  sim.scenario('stop-flapping', id);
  const reconnects = kinds.filter((k) => k === 'reconnect').length;
  console.log(`# flapping: ${reconnects} automatic reconnects before the loop cap asked`);
  assert.equal(reconnects, 3);
});

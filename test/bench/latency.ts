/** Scenarios 1 and 2: event -> model latency (and the 5 s poll baseline); agent ID change -> decision. */
import { systemClock } from '../../src/common/clock';
import { BindingTracker } from '../../src/model/binding';
import { ReconnectRunner } from '../../src/sync/reconnectRunner';
import { BindingFollower } from '../../src/sync/bindingFollower';
import { startSimulator } from '../sim';
import { baselinePoller, core, until } from './core';
import { percentile, type Figure } from './report';

export async function eventToModel(samples: number, baselineSamples: number): Promise<Figure[]> {
  const sim = await startSimulator({ clock: 'real' });
  const id = sim.createWorkspace({ name: 'dev' });
  const c = core(sim);
  c.sync.setBoundWorkspace(id);
  c.sync.setBoundAgentName(id, 'main');
  await until(() => !!c.fleet.findAgent(id, 'main', null), 10_000, 'the workspace');
  const agentId = sim.findAgent(id, 'main').id;
  const lat: number[] = [];
  for (let i = 0; i < samples; i++) {
    const state = i % 2 === 0 ? 'starting' : 'ready';
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const sub = c.sync.onChanges(() => {
        if (c.fleet.findAgent(id, 'main', null)?.lifecycle_state !== state) return;
        sub.dispose();
        resolve();
      });
      sim.setLifecycle(agentId, state);
    });
    lat.push(performance.now() - t0);
  }
  c.dispose();

  // Baseline: a 5 s list poll sees a change when its next poll lands.
  let seen = '';
  const poller = baselinePoller(sim.url, sim.token, 5000, (list) => {
    seen = list.find((w) => w.id === id)?.latest_build.resources[0]?.agents?.[0]?.lifecycle_state ?? '';
  });
  const base: number[] = [];
  for (let i = 0; i < baselineSamples; i++) {
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const state = i % 2 === 0 ? 'starting' : 'ready';
    const t0 = performance.now();
    sim.setLifecycle(agentId, state);
    await until(() => seen === state, 20_000, 'the baseline poll');
    base.push(performance.now() - t0);
  }
  poller.stop();
  await sim.close();
  return [
    { name: 'event_to_model_p50_ms', value: percentile(lat, 50) },
    { name: 'event_to_model_p99_ms', value: percentile(lat, 99), target: '< 50' },
    { name: 'event_to_model_samples', value: lat.length },
    { name: 'baseline_event_to_model_p50_ms', value: percentile(base, 50) },
    { name: 'baseline_event_to_model_p99_ms', value: percentile(base, 99) },
    { name: 'baseline_event_to_model_samples', value: base.length },
  ];
}

export async function idChangeToDecision(rebuilds: number): Promise<Figure[]> {
  const sim = await startSimulator({
    clock: 'real',
    agentTimings: { connectMs: 5, startingMs: 5, readyMs: 20 },
    buildTimings: { pendingMs: 5, runningMs: 10 },
  });
  const id = sim.createWorkspace({
    name: 'dev',
    agents: [{ name: 'main', scripts: [{ display_name: 'deps', start_blocks_login: true }] }],
  });
  const c = core(sim);
  c.sync.setBoundWorkspace(id);
  c.sync.setBoundAgentName(id, 'main');
  await until(() => !!c.fleet.findAgent(id, 'main', null), 10_000, 'the workspace');
  const machine = new ReconnectRunner({ clock: systemClock, settings: { maxAutoReconnects: Number.MAX_SAFE_INTEGER } });
  const follower = new BindingFollower(c.fleet, new BindingTracker(systemClock), machine);
  c.sync.onChanges((ch) => follower.onChanges(ch));
  follower.follow({ workspaceId: id, name: 'main', parentName: null });
  const lat: number[] = [];
  for (let i = 0; i < rebuilds; i++) {
    let readyAt = 0;
    const off = sim.onEvent((e) => {
      if (e.kind === 'lifecycle' && sim.findAgent(id, 'main')?.lifecycle_state === 'ready') readyAt = performance.now();
    });
    const decided = new Promise<void>((resolve) => {
      const sub = machine.onDecision((d) => {
        if (d.kind !== 'reconnect') return;
        sub.dispose();
        resolve();
      });
    });
    sim.restartWorkspace(id);
    await decided;
    lat.push(performance.now() - readyAt);
    off();
    machine.dispatch({ type: 'reconnected' });
  }
  machine.dispose();
  c.dispose();
  await sim.close();
  return [
    { name: 'id_change_to_decision_p50_ms', value: percentile(lat, 50) },
    { name: 'id_change_to_decision_p99_ms', value: percentile(lat, 99), target: '< 100' },
    { name: 'id_change_rebuilds', value: lat.length },
  ];
}

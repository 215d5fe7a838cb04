/** The stream ladder against the simulator: each rung is chosen when the ones above are off; push without polling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type SimOptions } from '../sim';
import { startCore } from './core';

const cases: { streams: SimOptions['streams']; bound: string }[] = [
  { streams: {}, bound: 'connection-watch' },
  { streams: { connectionWatch: false }, bound: 'watch-ws' },
  { streams: { connectionWatch: false, watchWs: false }, bound: 'sse' },
  { streams: { connectionWatch: false, watchWs: false, sse: false }, bound: 'poll' },
];

for (const c of cases) {
  test(`with ${JSON.stringify(c.streams)} switched off, the workspaces are fed by ${c.bound}`, async (t) => {
    const sim = await startSimulator({ clock: 'real', streams: c.streams });
    t.after(() => sim.close());
    const bound = sim.createWorkspace({ name: 'dev' });
    const other = sim.createWorkspace({ name: 'api' });
    const core = startCore(sim, { pollIntervalMs: c.bound === 'poll' ? 500 : 60_000 });
    t.after(() => core.dispose());
    core.sync.setBoundWorkspace(bound);
    core.sync.setBoundAgentName(bound, 'main');
    await core.until(() => core.fleet.rung(bound) === c.bound, `${c.bound} for the bound workspace`, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}; rung is ${core.fleet.rung(bound)}`);
    });
    await core.until(() => core.fleet.rung(other) === c.bound, 'the same rung for the other workspace', 30_000);
    // A lifecycle change reaches the model by push (the list poll is a minute away), or by the poll on the last rung.
    const agentId = sim.findAgent(bound, 'main').id;
    const started = Date.now();
    sim.setLifecycle(agentId, 'start_error');
    await core.until(() => core.fleet.findAgent(bound, 'main', null)?.lifecycle_state === 'start_error', 'the change', 30_000);
    console.log(`# ${c.bound}: bound=${core.fleet.rung(bound)} other=${core.fleet.rung(other)}, change reached the model in ${Date.now() - started} ms`);
    assert.equal(core.fleet.rung(bound), c.bound);
    assert.equal(core.fleet.rung(other), c.bound, 'what the deployment lacks is remembered for its other workspaces');
  });
}

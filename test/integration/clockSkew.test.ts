/**
 * A deployment whose clock is minutes off this machine's (or a laptop minutes off): the client
 * measures the skew from the `Date` header, and the stuck clock (tree and reconnect decision)
 * runs on server time moved onto the local clock. Against the simulator with a clock offset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/common/clock';
import { BindingTracker } from '../../src/model/binding';
import { classifyAgent } from '../../src/model/lifecycle';
import type { Decision } from '../../src/model/reconnect';
import { BindingFollower } from '../../src/sync/bindingFollower';
import { ReconnectRunner } from '../../src/sync/reconnectRunner';
import { startSimulator } from '../sim';
import { startBoundCore } from './core';

const THRESHOLD = 3000;

for (const offsetMin of [5, -5]) {
  test(`a deployment clock ${offsetMin > 0 ? 'ahead' : 'behind'} by ${Math.abs(offsetMin)} min neither flags a fresh agent nor misses a stuck one`, async (t) => {
    const offset = offsetMin * 60_000;
    const sim = await startSimulator({
      clockOffsetMs: offset,
      agentTimings: { connectMs: 30, startingMs: 30, readyMs: 150 },
      buildTimings: { pendingMs: 30, runningMs: 60 },
    });
    t.after(() => sim.close());
    const id = sim.createWorkspace({
      name: 'dev',
      agents: [{ name: 'main', scripts: [{ display_name: 'deps', start_blocks_login: true }] }],
    });
    const core = startBoundCore(t, sim, id);
    const runner = new ReconnectRunner({
      clock: systemClock,
      settings: { stuckThresholdMs: THRESHOLD, stuckAction: 'none' },
      skewMs: () => core.fleet.serverSkewMs(),
    });
    t.after(() => runner.dispose());
    const decisions: { d: Decision; at: number }[] = [];
    runner.onDecision((d) => decisions.push({ d, at: Date.now() }));
    const follower = new BindingFollower(core.fleet, new BindingTracker(systemClock), runner);
    core.sync.onChanges((c) => follower.onChanges(c));
    await core.until(() => !!core.fleet.findAgent(id, 'main', null), 'the workspace');
    follower.follow({ workspaceId: id, name: 'main', parentName: null });

    const oldId = core.fleet.findAgent(id, 'main', null)!.id;
    sim.scenario('surviving-agent', id);
    const stuckRow = () => {
      const a = core.fleet.findAgent(id, 'main', null);
      return a && a.id !== oldId && a.status === 'connected' && a.lifecycle_state === 'created' ? a : undefined;
    };
    await core.until(() => !!stuckRow(), 'the new agent connected at created');
    const row = stuckRow()!;
    const skew = core.fleet.serverSkewMs();
    assert.ok(Math.abs(skew - offset) <= 1500, `measured skew ${skew} ms for an offset of ${offset} ms`);
    const tree = () => classifyAgent(row, Date.now(), { stuckSince: core.fleet.stuckSince(row.id), stuckThresholdMs: THRESHOLD });
    assert.equal(tree().stuck, undefined, 'just connected: not flagged');
    assert.ok(!decisions.some((x) => x.d.kind === 'stuck'), 'just connected: the reconnect decision does not flag it either');

    await core.until(() => decisions.some((x) => x.d.kind === 'stuck'), 'the stuck decision', THRESHOLD + 10_000);
    const stuck = decisions.find((x) => x.d.kind === 'stuck')!;
    // When it connected by this machine's clock: the server's timestamp minus the real offset.
    const connectedLocal = Date.parse(row.first_connected_at!) - offset;
    const delay = stuck.at - connectedLocal;
    console.log(`# clock offset ${offsetMin} min: skew measured ${skew} ms; stuck reported ${delay} ms after the agent connected`);
    assert.ok(delay >= THRESHOLD - 1500 && delay <= THRESHOLD + 1500, `${delay} ms (threshold ${THRESHOLD} ms)`);
    assert.equal(tree().stuck, true, 'the tree agrees once the decision says stuck');
  });
}

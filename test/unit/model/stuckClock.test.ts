/**
 * The tree, the status bar, the reconnect decision and the doctor share one stuck clock: the
 * agent's server timestamp, moved onto the local clock by the measured skew.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerClock } from '../../../src/api/serverClock';
import { diagnose } from '../../../src/model/doctor';
import { Fleet } from '../../../src/model/fleet';
import { classifyAgent } from '../../../src/model/lifecycle';
import {
  DEFAULT_RECONNECT_SETTINGS,
  initialReconnectState,
  nextDeadline,
  reduceReconnect,
  type Decision,
} from '../../../src/model/reconnect';
import { agent, workspace } from './fixtures';

const THRESHOLD = 20_000;
const settings = { ...DEFAULT_RECONNECT_SETTINGS, stuckThresholdMs: THRESHOLD, stuckAction: 'none' as const };

/** What the tree shows, what the reconnect decision does and what the doctor says at `now` for a row first seen at `now`. */
function both(opts: { connectedAt: number; now: number; skewMs: number }) {
  const a = agent({ lifecycle_state: 'created', status: 'connected', first_connected_at: new Date(opts.connectedAt).toISOString() });
  const ws = workspace({ agents: [a] });
  const fleet = new Fleet({
    deploymentUrl: 'https://coder.example.com',
    serverSkewMs: () => opts.skewMs,
  });
  fleet.apply({ kind: 'workspace', workspace: ws, at: opts.now });
  const tree = classifyAgent(a, opts.now, { stuckSince: fleet.stuckSince(a.id), stuckThresholdMs: THRESHOLD });
  const input = { now: opts.now, settings, support: () => 'unknown' as const, skewMs: opts.skewMs };
  const step = reduceReconnect(initialReconnectState(), { type: 'agent-update', workspaceId: ws.id, agent: a }, input);
  const decisions: Decision[] = [...step.decisions];
  const due = nextDeadline(step.state);
  if (due !== undefined && due <= opts.now) decisions.push(...reduceReconnect(step.state, { type: 'tick' }, input).decisions);
  const doctor = diagnose({ workspace: ws, agent: a, now: opts.now, stuckThresholdMs: THRESHOLD, stuckSince: fleet.stuckSince(a.id) });
  return {
    treeStuck: tree.stuck === true,
    machineStuck: decisions.some((d) => d.kind === 'stuck'),
    doctorStuck: doctor.some((d) => d.code === 'lifecycle-not-reported' || d.code === 'survived-build'),
    label: tree.label,
  };
}

test('after a reload the tree and the reconnect decision agree: stuck since the agent connected, not since this window saw it', () => {
  const connectedAt = Date.UTC(2026, 0, 1);
  const r = both({ connectedAt, now: connectedAt + 60_000, skewMs: 0 });
  assert.deepEqual({ tree: r.treeStuck, machine: r.machineStuck, doctor: r.doctorStuck }, { tree: true, machine: true, doctor: true });
  assert.match(r.label, /not reported for 1m 0s/);
  const fresh = both({ connectedAt, now: connectedAt + 5_000, skewMs: 0 });
  assert.deepEqual(
    { tree: fresh.treeStuck, machine: fresh.machineStuck, doctor: fresh.doctorStuck },
    { tree: false, machine: false, doctor: false },
  );
});

test('a server clock minutes off, measured through the Date header, neither flags a fresh agent nor misses a stuck one', () => {
  const local = Date.UTC(2026, 0, 1, 12);
  for (const offset of [5 * 60_000, -5 * 60_000]) {
    const server = new ServerClock();
    server.observe(new Date(local + offset).toUTCString(), local);
    // The agent connected 5 s (fresh) or 60 s (stuck) ago, by the server's clock.
    const fresh = both({ connectedAt: local + offset - 5_000, now: local, skewMs: server.skewMs });
    const stuck = both({ connectedAt: local + offset - 60_000, now: local, skewMs: server.skewMs });
    assert.deepEqual(
      [fresh.treeStuck, fresh.machineStuck, fresh.doctorStuck, stuck.treeStuck, stuck.machineStuck, stuck.doctorStuck],
      [false, false, false, true, true, true],
      `offset ${offset}`,
    );
  }
});

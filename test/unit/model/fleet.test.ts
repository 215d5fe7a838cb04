import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fleet, FleetRejection } from '../../../src/model/fleet';
import type { Change } from '../../../src/model/types';
import { agent, uuid, workspace } from './fixtures';

const newFleet = () => new Fleet({ deploymentUrl: 'https://coder.example.com', myUsername: 'alice' });
const kinds = (cs: Change[]) => cs.map((c) => c.kind);

test('a new workspace is added; the identical event again changes nothing', () => {
  const f = newFleet();
  const ws = workspace();
  assert.deepEqual(kinds(f.apply({ kind: 'workspace', workspace: ws, at: 1 })), ['workspace-added']);
  assert.deepEqual(f.apply({ kind: 'workspace', workspace: structuredClone(ws), at: 2 }), []);
  assert.equal(f.lastHeard(ws.id), 2);
});

test('a lifecycle change is one agent-changed for that agent', () => {
  const f = newFleet();
  const a = agent({ lifecycle_state: 'starting' });
  const ws = workspace({ agents: [a] });
  f.apply({ kind: 'workspace', workspace: ws, at: 1 });
  const next = workspace({ id: ws.id, agents: [{ ...a, lifecycle_state: 'ready' }] });
  assert.deepEqual(f.apply({ kind: 'workspace', workspace: next, at: 2 }), [{ kind: 'agent-changed', workspaceId: ws.id, agentId: a.id }]);
  assert.deepEqual(
    f.lifecycleTimeline(a.id).map((t) => t.state),
    ['starting', 'ready'],
  );
});

test('a REST answer overtaken by a stream frame does not take an agent back; a newer row does apply', () => {
  const f = newFleet();
  const a = agent({ lifecycle_state: 'starting', status: 'connected', updated_at: '2026-01-01T00:00:02Z' });
  const ws = workspace({ agents: [a] });
  f.apply({ kind: 'workspace', workspace: ws, at: 1 });
  const pushed = workspace({ id: ws.id, agents: [{ ...a, lifecycle_state: 'ready', updated_at: '2026-01-01T00:00:05Z' }] });
  assert.deepEqual(kinds(f.apply({ kind: 'workspace', workspace: pushed, at: 2 })), ['agent-changed']);
  // The list poll's answer was produced at 00:00:03, before the frame, and lands after it.
  const late = workspace({ id: ws.id, agents: [{ ...a, lifecycle_state: 'starting', updated_at: '2026-01-01T00:00:03Z' }] });
  assert.deepEqual(f.apply({ kind: 'workspaces', workspaces: [late], at: 3 }), []);
  assert.equal(f.agentById(a.id)?.agent.lifecycle_state, 'ready');
  const newer = workspace({ id: ws.id, agents: [{ ...a, status: 'disconnected', updated_at: '2026-01-01T00:00:09Z' }] });
  assert.deepEqual(kinds(f.apply({ kind: 'workspace', workspace: newer, at: 4 })), ['agent-changed']);
  assert.equal(f.agentById(a.id)?.agent.status, 'disconnected');
});

test('a full list removes the workspaces it no longer holds', () => {
  const f = newFleet();
  const a = workspace({ name: 'a' });
  const b = workspace({ name: 'b' });
  f.apply({ kind: 'workspaces', workspaces: [a, b], at: 1 });
  assert.deepEqual(
    f.workspaces().map((w) => w.name),
    ['a', 'b'],
  );
  assert.deepEqual(f.apply({ kind: 'workspaces', workspaces: [b], at: 2 }), [{ kind: 'workspace-removed', workspaceId: a.id }]);
  assert.equal(f.workspace(a.id), undefined);
});

test('a rebuild reports agent-id-changed by name and parent, sub-agents included', () => {
  const f = newFleet();
  const main = agent({ name: 'main' });
  const child = agent({ name: 'devcontainer', parent_id: main.id });
  const ws = workspace({ build: 2, agents: [main, child] });
  f.apply({ kind: 'workspace', workspace: ws, at: 1 });
  const main2 = agent({ name: 'main', lifecycle_state: 'created', status: 'connecting' });
  const child2 = agent({ name: 'devcontainer', parent_id: main2.id });
  const changes = f.apply({ kind: 'workspace', workspace: workspace({ id: ws.id, build: 4, agents: [main2, child2] }), at: 2 });
  const idChanges = changes.filter((c) => c.kind === 'agent-id-changed');
  assert.deepEqual(idChanges, [
    { kind: 'agent-id-changed', workspaceId: ws.id, agentName: 'main', parentName: null, oldId: main.id, newId: main2.id, buildNumber: 4 },
    {
      kind: 'agent-id-changed',
      workspaceId: ws.id,
      agentName: 'devcontainer',
      parentName: 'main',
      oldId: child.id,
      newId: child2.id,
      buildNumber: 4,
    },
  ]);
  assert.ok(changes.some((c) => c.kind === 'workspace-changed' && c.buildChanged));
  assert.equal(f.findAgent(ws.id, 'devcontainer', 'main')?.id, child2.id);
  assert.equal(f.agentById(main.id), undefined, 'old rows leave the index');
  assert.equal(f.agentById(main2.id)?.agent.name, 'main');
});

test('an event of an older build is ignored', () => {
  const f = newFleet();
  const ws = workspace({ build: 5 });
  f.apply({ kind: 'workspace', workspace: ws, at: 1 });
  assert.deepEqual(
    f.apply({ kind: 'workspace', workspace: workspace({ id: ws.id, build: 4, status: 'stopped', transition: 'stop' }), at: 2 }),
    [],
  );
  assert.equal(f.workspace(ws.id)?.latest_build.build_number, 5);
});

test('connection-watch frames patch the lifecycle and detect a new agent id', () => {
  const f = newFleet();
  const a = agent({ lifecycle_state: 'starting' });
  const ws = workspace({ agents: [a] });
  f.apply({ kind: 'workspace', workspace: ws, at: 1 });
  const ready = f.apply({
    kind: 'connection-watch',
    workspaceId: ws.id,
    agentName: 'main',
    event: { agent_update: { lifecycle: 'ready', id: a.id } },
    at: 2,
  });
  assert.deepEqual(ready, [{ kind: 'agent-changed', workspaceId: ws.id, agentId: a.id }]);
  assert.equal(f.findAgent(ws.id, 'main', null)?.lifecycle_state, 'ready');
  assert.deepEqual(ws.latest_build.resources[0]?.agents[0]?.lifecycle_state, 'starting', "the caller's object is not mutated");

  const newId = uuid();
  const moved = f.apply({
    kind: 'connection-watch',
    workspaceId: ws.id,
    agentName: 'main',
    event: { agent_update: { lifecycle: 'created', id: newId } },
    at: 3,
  });
  assert.deepEqual(kinds(moved), ['agent-id-changed', 'agent-changed']);
  assert.equal(f.findAgent(ws.id, 'main', null)?.id, newId);

  const build = f.apply({
    kind: 'connection-watch',
    workspaceId: ws.id,
    agentName: 'main',
    event: { build_update: { transition: 'stop', job_status: 'running' } },
    at: 4,
  });
  assert.deepEqual(build, [{ kind: 'workspace-changed', workspaceId: ws.id, buildChanged: true }]);
  assert.equal(f.isPartial(ws.id), true, 'agents unknown until the workspace is read whole');
  f.apply({
    kind: 'workspace',
    workspace: workspace({ id: ws.id, build: 2, transition: 'stop', status: 'stopping', job: 'running', agents: [] }),
    at: 5,
  });
  assert.equal(f.isPartial(ws.id), false);
  assert.equal(f.workspace(ws.id)?.latest_build.status, 'stopping');
});

test("an agent row replaces the latest build's row; an old build's row is ignored", () => {
  const f = newFleet();
  const a = agent({ lifecycle_state: 'starting' });
  const ws = workspace({ agents: [a] });
  f.apply({ kind: 'workspace', workspace: ws, at: 1 });
  assert.deepEqual(kinds(f.apply({ kind: 'agent', workspaceId: ws.id, agent: { ...a, lifecycle_state: 'ready' }, at: 2 })), [
    'agent-changed',
  ]);
  assert.deepEqual(f.apply({ kind: 'agent', workspaceId: ws.id, agent: agent(), at: 3 }), []);
});

test('stuckSince is when the agent connected by the server (corrected by the clock skew), not when this model first saw it; it clears when the signature ends', () => {
  let skew = 0;
  const f = new Fleet({ deploymentUrl: 'https://coder.example.com', serverSkewMs: () => skew });
  const a = agent({ lifecycle_state: 'created', status: 'connected', first_connected_at: '2026-01-01T00:00:01Z' });
  const ws = workspace({ agents: [a] });
  const connected = Date.parse('2026-01-01T00:00:01Z');
  f.apply({ kind: 'workspace', workspace: ws, at: connected + 3_600_000 }); // seen an hour later (a reload)
  f.apply({ kind: 'workspace', workspace: structuredClone(ws), at: connected + 3_700_000 });
  assert.equal(f.stuckSince(a.id), connected);
  skew = 300_000; // the deployment's clock runs five minutes ahead of this one
  assert.equal(f.stuckSince(a.id), connected - 300_000);
  f.apply({ kind: 'agent', workspaceId: ws.id, agent: { ...a, lifecycle_state: 'starting' }, at: connected + 3_800_000 });
  assert.equal(f.stuckSince(a.id), undefined);
});

test('connection state changes are reported once', () => {
  const f = newFleet();
  assert.deepEqual(kinds(f.apply({ kind: 'connection', state: { kind: 'live' }, at: 1 })), ['connection-changed']);
  assert.deepEqual(f.apply({ kind: 'connection', state: { kind: 'live' }, at: 2 }), []);
  assert.equal(f.apply({ kind: 'connection', state: { kind: 'offline', since: 3, error: 'ECONNREFUSED' }, at: 3 }).length, 1);
});

test('inputs the model cannot fold are rejected with a reason (not silently), and leave the model as it was', () => {
  const f = newFleet();
  const ws = workspace();
  f.apply({ kind: 'workspace', workspace: ws, at: 1 });
  const broken = { ...workspace(), latest_build: null } as never;
  assert.throws(
    () => f.apply({ kind: 'workspace', workspace: broken, at: 2 }),
    (e: unknown) => e instanceof FleetRejection && e.eventKind === 'workspace',
  );
  assert.throws(
    () => f.apply({ kind: 'bogus' } as never),
    (e: unknown) => e instanceof FleetRejection && /unknown event kind/.test(e.message),
  );
  assert.deepEqual(
    f.workspaces().map((w) => w.id),
    [ws.id],
  );
  // About a workspace the model does not hold: nothing to do, and nothing wrong.
  assert.deepEqual(f.apply({ kind: 'connection-watch', workspaceId: 'nope', agentName: 'x', event: {}, at: 3 }), []);
});

test('top-level agents, children and parent names', () => {
  const f = newFleet();
  const main = agent({ name: 'main' });
  const child = agent({ name: 'dc', parent_id: main.id });
  const ws = workspace({ agents: [main, child] });
  f.apply({ kind: 'workspace', workspace: ws, at: 1 });
  assert.deepEqual(
    f.topLevelAgents(ws.id).map((a) => a.name),
    ['main'],
  );
  assert.deepEqual(
    f.childrenOf(ws.id, main.id).map((a) => a.name),
    ['dc'],
  );
  assert.equal(f.parentNameOf(ws.id, child), 'main');
  assert.equal(f.isForeign(workspace({ owner: 'bob' })), true);
});

test('10,000 events over a 2,000 x 2 fleet stay cheap', () => {
  const f = newFleet();
  const all = Array.from({ length: 2000 }, (_, i) => workspace({ name: `ws${i}`, agents: [agent({ name: 'a' }), agent({ name: 'b' })] }));
  f.apply({ kind: 'workspaces', workspaces: all, at: 0 });
  const started = process.hrtime.bigint();
  for (let i = 0; i < 10_000; i++) {
    const ws = all[i % all.length]!;
    const a = ws.latest_build.resources[0]!.agents[i % 2]!;
    f.apply({ kind: 'agent', workspaceId: ws.id, agent: { ...a, lifecycle_state: i % 3 === 0 ? 'starting' : 'ready' }, at: i });
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`# 10,000 agent events over 2,000 x 2: ${ms.toFixed(1)} ms`);
  assert.ok(ms < 5_000, `hang bound: ${ms} ms`);
});

test('the fleet rung is kept with its reason, reported once per change; a workspace is live only on a stream rung', () => {
  const fleet = new Fleet({ deploymentUrl: 'https://coder.example.com' });
  assert.equal(fleet.fleetRung, undefined);
  const push = { kind: 'fleet-rung', rung: 'push', reason: 'tailnet WorkspaceUpdates push is open', at: 0 } as const;
  assert.deepEqual(fleet.apply(push), [{ kind: 'fleet-rung-changed', rung: 'push', reason: push.reason }]);
  assert.deepEqual(fleet.apply(push), []);
  assert.deepEqual(fleet.fleetRung, { rung: 'push', reason: push.reason });
  const id = uuid();
  assert.equal(fleet.isLive(id), false);
  fleet.apply({ kind: 'rung', workspaceId: id, rung: 'watch-ws', at: 0 });
  assert.equal(fleet.isLive(id), true);
  fleet.apply({ kind: 'rung', workspaceId: id, rung: 'poll', at: 0 });
  assert.equal(fleet.isLive(id), false);
});

test('unstreamedAge: how old the last read of a workspace without a stream is; undefined while it streams', () => {
  const fleet = new Fleet({ deploymentUrl: 'https://coder.example.com' });
  const ws = workspace();
  fleet.apply({ kind: 'workspace', workspace: ws, at: 1000 });
  assert.equal(fleet.unstreamedAge(ws.id, 91_000), 90_000);
  fleet.apply({ kind: 'rung', workspaceId: ws.id, rung: 'sse', at: 91_000 });
  assert.equal(fleet.unstreamedAge(ws.id, 91_000), undefined);
  assert.equal(fleet.unstreamedAge('unknown', 91_000), undefined);
});

test('a known workspace moving between a stream and no stream is a change of it (its rows say how old they are); a move between streams is not', () => {
  const fleet = new Fleet({ deploymentUrl: 'https://coder.example.com' });
  const ws = workspace();
  fleet.apply({ kind: 'workspace', workspace: ws, at: 0 });
  const changed = [{ kind: 'workspace-changed', workspaceId: ws.id, buildChanged: false }];
  assert.deepEqual(fleet.apply({ kind: 'rung', workspaceId: ws.id, rung: 'watch-ws', at: 0 }), changed);
  assert.deepEqual(fleet.apply({ kind: 'rung', workspaceId: ws.id, rung: 'sse', at: 0 }), []);
  assert.deepEqual(fleet.apply({ kind: 'rung', workspaceId: ws.id, rung: 'poll', at: 0 }), changed);
  assert.deepEqual(fleet.apply({ kind: 'rung', workspaceId: uuid(), rung: 'poll', at: 0 }), [], 'an unknown workspace changes nothing');
});

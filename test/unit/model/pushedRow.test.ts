import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentsOf } from '../../../src/api/schemas';
import { Fleet } from '../../../src/model/fleet';
import { DepartedAgents, buildWithStatus, patchRow, type PushedFacts } from '../../../src/model/pushedRow';
import { deriveWorkspaceStatus } from '../../../src/model/lifecycle';
import { agent, workspace } from './fixtures';

const HEARD = '2026-06-01T12:00:00.000Z';
const facts = (status: string, agents: { id: string; name: string }[], replaced: PushedFacts['replaced'] = []): PushedFacts => ({
  status,
  heardAt: HEARD,
  agents,
  replaced,
});

test('every pushed status sets the build so that deriving it again gives the same status', () => {
  for (const [from, to] of [
    ['running', 'pending'],
    ['stopped', 'starting'],
    ['pending', 'running'],
    ['running', 'stopping'],
    ['stopping', 'stopped'],
    ['starting', 'failed'],
    ['starting', 'canceling'],
    ['canceling', 'canceled'],
    ['running', 'deleting'],
    ['deleting', 'deleted'],
  ]) {
    const b = workspace({ status: from }).latest_build;
    const next = buildWithStatus(b, to!);
    assert.equal(next.status, to);
    assert.equal(deriveWorkspaceStatus(next.transition, next.job.status), to, `${from} -> ${to}`);
  }
});

test('a pending build after a running workspace is its stop, after a stopped one its start', () => {
  assert.equal(buildWithStatus(workspace({ status: 'running' }).latest_build, 'pending').transition, 'stop');
  assert.equal(buildWithStatus(workspace({ status: 'stopped', transition: 'stop' }).latest_build, 'pending').transition, 'start');
  assert.equal(buildWithStatus(workspace({ status: 'failed', job: 'failed' }).latest_build, 'pending').transition, 'start', 'kept');
});

test('an unknown or unchanged status leaves the build as it is', () => {
  const b = workspace({ status: 'running' }).latest_build;
  assert.equal(buildWithStatus(b, 'unknown:0'), b);
  assert.equal(buildWithStatus(b, 'running'), b);
});

test('a row that already says what the push says is returned as it is', () => {
  const a = agent();
  const ws = workspace({ agents: [a] });
  const p = patchRow(ws, facts('running', [{ id: a.id, name: a.name }]), new DepartedAgents());
  assert.equal(p.ws, ws);
  assert.deepEqual([p.placed, p.removed, p.unplaced], [[], [], []]);
});

test('a rebuild across messages: the stop takes the agent out, the start puts its successor in its place', () => {
  const old = agent({ name: 'main', directory: '/home/coder', operating_system: 'linux' });
  const ws = workspace({ agents: [old] });
  const departed = new DepartedAgents();
  const stop = patchRow(ws, facts('pending', []), departed);
  assert.deepEqual(agentsOf(stop.ws), []);
  assert.deepEqual(
    stop.removed.map((a) => a.id),
    [old.id],
  );
  assert.equal(departed.size, 1);
  const stopped = patchRow(stop.ws, facts('stopped', []), departed);
  assert.equal(stopped.ws.latest_build.transition, 'stop');
  const start = patchRow(stopped.ws, facts('running', [{ id: 'new', name: 'main' }], [{ oldId: old.id, newId: 'new' }]), departed);
  const [placed] = agentsOf(start.ws);
  assert.equal(placed?.id, 'new');
  assert.equal(placed.lifecycle_state, 'created');
  assert.equal(placed.status, 'connecting');
  assert.equal(placed.first_connected_at, null);
  assert.equal(placed.directory, '/home/coder', 'what a rebuild keeps comes from the old row');
  assert.equal(placed.created_at, HEARD, 'created when heard of, not when the old agent was');
  assert.equal(placed.updated_at, old.updated_at, 'older than any REST row of the new agent');
  assert.deepEqual(
    start.placed.map((p) => [p.old.id, p.agent.id]),
    [[old.id, 'new']],
  );
  assert.equal(start.ws.latest_build.resources[0]!.id, 'res');
  assert.equal(departed.size, 0);
});

test('a sub-agent placed after its parent points at the parent’s new ID', () => {
  const parent = agent({ name: 'main' });
  const child = agent({ name: 'devcontainer', parent_id: parent.id });
  const departed = new DepartedAgents();
  const stopped = patchRow(workspace({ agents: [parent, child] }), facts('stopped', []), departed).ws;
  const withParent = patchRow(stopped, facts('running', [{ id: 'p2', name: 'main' }], [{ oldId: parent.id, newId: 'p2' }]), departed).ws;
  const both = patchRow(
    withParent,
    facts(
      'running',
      [
        { id: 'p2', name: 'main' },
        { id: 'c2', name: 'devcontainer' },
      ],
      [{ oldId: child.id, newId: 'c2' }],
    ),
    departed,
  ).ws;
  assert.equal(agentsOf(both).find((a) => a.id === 'c2')?.parent_id, 'p2');
});

test('a pushed agent with nothing to replace is left to a REST read', () => {
  const ws = workspace({ agents: [agent({ name: 'main' })] });
  const main = agentsOf(ws)[0]!;
  const p = patchRow(
    ws,
    facts('running', [
      { id: main.id, name: 'main' },
      { id: 'extra', name: 'sidecar' },
    ]),
    new DepartedAgents(),
  );
  assert.deepEqual(p.unplaced, ['extra']);
  assert.equal(p.ws, ws);
});

test('the model takes a pushed row: status and IDs current, lastHeard kept, the build partial, the ID change told once', () => {
  const fleet = new Fleet({ deploymentUrl: 'https://coder.example.com' });
  const old = agent({ name: 'main' });
  const ws = workspace({ agents: [old] });
  fleet.apply({ kind: 'workspace', workspace: ws, at: 1_000 });
  const departed = new DepartedAgents();
  const stop = patchRow(ws, facts('stopped', []), departed);
  const c1 = fleet.apply({ kind: 'pushed', workspace: stop.ws, replaced: stop.placed, at: 5_000 });
  assert.ok(c1.some((c) => c.kind === 'workspace-changed'));
  assert.equal(fleet.agentById(old.id), undefined);
  assert.equal(fleet.isPartial(ws.id), true);
  const start = patchRow(stop.ws, facts('running', [{ id: 'new', name: 'main' }], [{ oldId: old.id, newId: 'new' }]), departed);
  const c2 = fleet.apply({ kind: 'pushed', workspace: start.ws, replaced: start.placed, at: 9_000 });
  assert.deepEqual(
    c2.filter((c) => c.kind === 'agent-id-changed'),
    [{ kind: 'agent-id-changed', workspaceId: ws.id, agentName: 'main', parentName: null, oldId: old.id, newId: 'new', buildNumber: 1 }],
  );
  assert.equal(fleet.agentById('new')?.agent.lifecycle_state, 'created');
  assert.equal(fleet.lastHeard(ws.id), 1_000, 'the lifecycle shown is as old as the last read');
  assert.equal(fleet.workspace(ws.id)?.latest_build.status, 'running');
  fleet.apply({
    kind: 'workspace',
    workspace: workspace({ id: ws.id, build: 3, agents: [agent({ id: 'new', name: 'main' })] }),
    at: 12_000,
  });
  assert.equal(fleet.isPartial(ws.id), false, 'a REST row makes it whole again');
  assert.equal(fleet.agentById('new')?.agent.lifecycle_state, 'ready');
});

test('a pushed row for a workspace the model does not hold changes nothing', () => {
  const fleet = new Fleet({ deploymentUrl: 'https://coder.example.com' });
  assert.deepEqual(fleet.apply({ kind: 'pushed', workspace: workspace(), replaced: [], at: 1 }), []);
  assert.equal(fleet.size, 0);
});

test('a successor the push paired with nothing takes the place of the one departed agent of its name', () => {
  // The push's first snapshot came mid-rebuild: it never listed the old agent, so nothing pairs it.
  const old = agent({ name: 'main' });
  const departed = new DepartedAgents();
  const stopped = patchRow(workspace({ agents: [old] }), facts('pending', []), departed).ws;
  const start = patchRow(stopped, facts('running', [{ id: 'new', name: 'main' }]), departed);
  assert.deepEqual(
    start.placed.map((p) => [p.old.id, p.agent.id]),
    [[old.id, 'new']],
  );
  const twins = new DepartedAgents();
  const two = patchRow(workspace({ agents: [agent({ name: 'main' }), agent({ name: 'main' })] }), facts('pending', []), twins).ws;
  assert.deepEqual(patchRow(two, facts('running', [{ id: 'n', name: 'main' }]), twins).unplaced, ['n'], 'two of that name: no guess');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkspaceSchema, type Workspace } from '../../../src/api/schemas';
import type { FleetUpdate } from '../../../src/sync/fleetPushSource';
import { PushedFleet, completePairings, reconcileChange, reconcileSnapshot, type ModelView } from '../../../src/sync/fleetReconcile';
import { workspaceJson, type WorkspaceSpec } from '../api/fakeServer';

const ME = 'user-1';

function row(spec: WorkspaceSpec, ownerId = ME): Workspace {
  return WorkspaceSchema.parse({ ...workspaceJson(spec), owner_id: ownerId });
}

function update(u: Partial<FleetUpdate>): FleetUpdate {
  return { snapshot: false, upsertedWorkspaces: [], upsertedAgents: [], deletedWorkspaces: [], deletedAgents: [], ...u };
}

const ws = (id: string, status = 'running') => ({ id, name: `ws-${id}`, status });
const agent = (id: string, workspaceId: string, name = 'main') => ({ id, name, workspaceId });

function view(rows: Workspace[], extra: Partial<ModelView> = {}): ModelView {
  return {
    rows: new Map(rows.map((r) => [r.id, r] as const)),
    myUserId: ME,
    bound: undefined,
    isStreamed: () => false,
    coversList: true,
    ...extra,
  };
}

test('snapshot: only workspaces whose status or agent IDs differ are read, new ones read, absent ones removed', () => {
  const pushed = new PushedFleet();
  pushed.apply(
    update({
      snapshot: true,
      upsertedWorkspaces: [ws('same'), ws('status', 'stopping'), ws('agents'), ws('new')],
      upsertedAgents: [agent('same-a1', 'same'), agent('status-a1', 'status'), agent('agents-a9', 'agents'), agent('new-a1', 'new')],
    }),
  );
  const rows = [
    row({ id: 'same', agents: [{ id: 'same-a1', name: 'main' }] }),
    row({ id: 'status', agents: [{ id: 'status-a1', name: 'main' }] }),
    row({ id: 'agents', agents: [{ id: 'agents-a1', name: 'main' }] }),
    row({ id: 'gone', agents: [] }),
  ];
  const r = reconcileSnapshot(pushed, view(rows));
  assert.deepEqual(r.differing.sort(), ['agents', 'new', 'status']);
  assert.deepEqual(r.remove, ['gone']);
});

test('snapshot: a bound workspace of another owner is kept; a streamed one is not read; another filter adds nothing', () => {
  const pushed = new PushedFleet();
  pushed.apply(update({ snapshot: true, upsertedWorkspaces: [ws('live', 'stopped'), ws('mine-new')] }));
  const rows = [row({ id: 'foreign', owner: 'bob' }, 'user-2'), row({ id: 'live' })];
  const r = reconcileSnapshot(pushed, view(rows, { bound: 'foreign', isStreamed: (id) => id === 'live', coversList: false }));
  assert.deepEqual(r, { differing: [], remove: [] });
  const r2 = reconcileSnapshot(pushed, view(rows, { bound: 'foreign' }));
  assert.deepEqual(r2.differing.sort(), ['live', 'mine-new']);
  assert.deepEqual(r2.remove, []);
});

test('a pushed change reads the touched workspace once; a deletion removes it; an unchanged echo reads nothing', () => {
  const pushed = new PushedFleet();
  pushed.apply(update({ snapshot: true, upsertedWorkspaces: [ws('a'), ws('b')], upsertedAgents: [agent('a1', 'a'), agent('b1', 'b')] }));
  const rows = [row({ id: 'a', agents: [{ id: 'a1', name: 'main' }] }), row({ id: 'b', agents: [{ id: 'b1', name: 'main' }] })];
  const stop = pushed.apply(update({ upsertedWorkspaces: [ws('a', 'pending')], deletedAgents: [agent('a1', 'a')] }));
  assert.deepEqual(reconcileChange(stop, pushed, view(rows)), { differing: ['a'], remove: [] });
  const echo = pushed.apply(update({ upsertedWorkspaces: [ws('b')] }));
  assert.deepEqual(reconcileChange(echo, pushed, view(rows)), { differing: [], remove: [] });
  const del = pushed.apply(update({ deletedWorkspaces: [ws('b', 'deleting')], deletedAgents: [agent('b1', 'b')] }));
  assert.deepEqual(reconcileChange(del, pushed, view(rows)), { differing: [], remove: ['b'] });
  assert.equal(pushed.has('b'), false);
});

test('a rebuild pairs the old and the new agent ID by workspace and name, across messages and a reconnect', () => {
  const pushed = new PushedFleet();
  pushed.apply(
    update({ snapshot: true, upsertedWorkspaces: [ws('w')], upsertedAgents: [agent('old-main', 'w'), agent('old-dev', 'w', 'dev')] }),
  );
  const stop = pushed.apply(update({ upsertedWorkspaces: [ws('w', 'pending')], deletedAgents: [agent('old-main', 'w')] }));
  assert.deepEqual(stop.pairings, []);
  const start = pushed.apply(update({ upsertedWorkspaces: [ws('w', 'starting')], upsertedAgents: [agent('new-main', 'w')] }));
  assert.deepEqual(start.pairings, [{ workspaceId: 'w', name: 'main', oldId: 'old-main', newId: 'new-main' }]);
  // The dev agent went away during a drop: the snapshot after the reconnect has its successor.
  const snap = pushed.apply(
    update({ snapshot: true, upsertedWorkspaces: [ws('w')], upsertedAgents: [agent('new-main', 'w'), agent('new-dev', 'w', 'dev')] }),
  );
  assert.deepEqual(snap.pairings, [{ workspaceId: 'w', name: 'dev', oldId: 'old-dev', newId: 'new-dev' }]);
});

test('completePairings: the parent comes from the REST row; a pairing the model reported is dropped; a row without the new agent waits', () => {
  const pairings = [
    { workspaceId: 'w', name: 'sub', oldId: 'old-sub', newId: 'new-sub' },
    { workspaceId: 'w', name: 'main', oldId: 'old-main', newId: 'new-main' },
  ];
  const early = row({ id: 'w', transition: 'stop', status: 'pending', buildNumber: 2, agents: [] });
  assert.deepEqual(completePairings(pairings, early, []), { changes: [], waiting: pairings });
  const built = row({
    id: 'w',
    buildNumber: 3,
    agents: [
      { id: 'new-main', name: 'main' },
      { id: 'new-sub', name: 'sub', parentId: 'new-main' },
    ],
  });
  const r = completePairings(pairings, built, []);
  assert.deepEqual(r.waiting, []);
  assert.deepEqual(r.changes, [
    {
      kind: 'agent-id-changed',
      workspaceId: 'w',
      agentName: 'sub',
      parentName: 'main',
      oldId: 'old-sub',
      newId: 'new-sub',
      buildNumber: 3,
    },
    {
      kind: 'agent-id-changed',
      workspaceId: 'w',
      agentName: 'main',
      parentName: null,
      oldId: 'old-main',
      newId: 'new-main',
      buildNumber: 3,
    },
  ]);
  const seen = completePairings(pairings, built, [r.changes[1]!]);
  assert.equal(seen.changes.length, 1);
});

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoderClient } from '../../../../src/api/client';
import { WorkspaceSchema } from '../../../../src/api/schemas';
import { systemClock } from '../../../../src/common/clock';
import { ManualClock } from '../../../doubles/manualClock';
import { Emitter } from '../../../../src/common/disposable';
import { silentLogger } from '../../../../src/common/log';
import type { DetailsInput } from '../../../../src/model/detailsView';
import { Fleet } from '../../../../src/model/fleet';
import { awaitingData, createDetailsSource, followLogsInto, resolveDetails, type DetailsTarget } from '../../../../src/ui/details/source';
import type { LogLine, LogStatus } from '../../../../src/protocol/detailsPanel';
import { FakeServer, until, workspaceJson } from '../../api/fakeServer';
import { agent, workspace } from '../../model/fixtures';

const TARGET: DetailsTarget = { deploymentUrl: 'https://c.example', workspaceId: 'w', agentName: 'main', parentName: null };

function inputFor(agentId: string, lifecycle: string, now: number): Omit<DetailsInput, 'observed'> {
  const ws = WorkspaceSchema.parse(workspaceJson({ id: 'w', agents: [{ id: agentId, name: 'main', lifecycle }] }));
  return {
    deploymentUrl: 'https://c.example',
    workspace: ws,
    agent: ws.latest_build.resources[0]!.agents[0]!,
    classification: { severity: 'progress', label: lifecycle, icon: 'loading~spin' },
    connection: { kind: 'live' },
    bound: false,
    now,
  };
}

describe('createDetailsSource', () => {
  it('records the transitions it sees and starts over for a new agent ID', () => {
    let current = inputFor('a1', 'created', 1_000);
    const changes = new Emitter<void>();
    const source = createDetailsSource({
      target: TARGET,
      loading: () => false,
      resolve: () => current,
      onDidChange: (l) => changes.event(() => l()),
      followLogs: () => ({ dispose() {} }),
    });
    source.getView();
    current = inputFor('a1', 'starting', 2_000);
    source.getView();
    current = inputFor('a1', 'starting', 3_000);
    const v1 = source.getView();
    assert.deepEqual(
      v1?.timeline.filter((t) => t.source === 'observed').map((t) => [t.state, t.at]),
      [['starting', 2_000]],
    );
    current = inputFor('a2', 'created', 4_000);
    const v2 = source.getView();
    assert.equal(v2?.agentId, 'a2');
    assert.deepEqual(v2?.idHistory, [{ oldId: 'a1', newId: 'a2', buildNumber: 1, at: 4_000, cause: 'new build' }]);
    assert.ok(
      v2?.timeline.every((t) => t.state === 'created'),
      JSON.stringify(v2?.timeline),
    );
  });

  it('uses the fleet timeline when the resolver gives one', () => {
    const source = createDetailsSource({
      target: TARGET,
      loading: () => false,
      resolve: () => ({
        ...inputFor('a1', 'ready', 9_000),
        observed: [
          { state: 'created', at: 1_000 },
          { state: 'starting', at: 2_000 },
          { state: 'ready', at: 3_000 },
        ],
      }),
      onDidChange: () => ({ dispose() {} }),
      followLogs: () => ({ dispose() {} }),
    });
    const observed = source.getView()?.timeline.filter((t) => t.source === 'observed');
    assert.deepEqual(
      observed?.map((t) => [t.state, t.at]),
      [
        ['starting', 2_000],
        ['ready', 3_000],
      ],
    );
  });

  it('has no view when the agent is gone', () => {
    const source = createDetailsSource({
      target: TARGET,
      loading: () => false,
      resolve: () => undefined,
      onDidChange: () => ({ dispose() {} }),
      followLogs: () => ({ dispose() {} }),
    });
    assert.equal(source.getView(), undefined);
  });
});

describe('resolveDetails', () => {
  const URL = 'https://c.example';

  it("gives the panel the persisted binding history and the fleet's lifecycle timeline", () => {
    const clock = new ManualClock(10_000);
    const fleet = new Fleet({ deploymentUrl: URL });
    const row = agent({ id: 'a1', lifecycle_state: 'created', started_at: null, ready_at: null });
    const ws = workspace({ id: 'w', build: 3, agents: [row] });
    fleet.apply({ kind: 'workspace', workspace: ws, at: 1_000 });
    fleet.apply({
      kind: 'workspace',
      workspace: workspace({ id: 'w', build: 3, agents: [{ ...row, lifecycle_state: 'starting' }] }),
      at: 2_000,
    });
    fleet.apply({
      kind: 'workspace',
      workspace: workspace({ id: 'w', build: 3, agents: [{ ...row, lifecycle_state: 'ready' }] }),
      at: 3_000,
    });
    // As the binding tracker keeps it (newest first), with an older binding's change that is not this agent's.
    const persisted = [
      { oldId: 'a0', newId: 'a1', buildNumber: 3, at: 900, cause: 'changed before this window connected' },
      { oldId: 'other-1', newId: 'other-2', buildNumber: 8, at: 500, cause: 'build change' },
      { oldId: 'a-1', newId: 'a0', buildNumber: 2, at: 400, cause: 'agent ID change' },
    ];
    const target: DetailsTarget = { deploymentUrl: URL, workspaceId: 'w', agentName: 'main', parentName: null };
    // A panel opened after all of it (or restored after a reload): it saw none of it happen.
    const source = createDetailsSource({
      target,
      loading: () => false,
      resolve: () =>
        resolveDetails(target, {
          sessionOf: (url) => (url === URL ? { fleet } : undefined),
          classify: () => ({ severity: 'ok', label: 'ready', icon: 'check' }),
          isBound: () => true,
          idHistory: () => persisted,
          now: () => clock.now(),
        }),
      onDidChange: () => ({ dispose() {} }),
      followLogs: () => ({ dispose() {} }),
    });
    const view = source.getView();
    assert.deepEqual(
      view?.idHistory.map((h) => [h.oldId, h.newId, h.buildNumber, h.at, h.cause]),
      [
        ['a-1', 'a0', 2, 400, 'agent ID change'],
        ['a0', 'a1', 3, 900, 'changed before this window connected'],
      ],
    );
    assert.deepEqual(
      view?.timeline.filter((t) => t.source === 'observed').map((t) => [t.state, t.at]),
      [
        ['starting', 2_000],
        ['ready', 3_000],
      ],
    );
  });

  it('has nothing while the deployment is not open or the agent is not in the latest build', () => {
    const fleet = new Fleet({ deploymentUrl: URL });
    fleet.apply({ kind: 'workspace', workspace: workspace({ id: 'w', agents: [agent({ name: 'other' })] }), at: 1 });
    const deps = {
      sessionOf: (url: string) => (url === URL ? { fleet } : undefined),
      classify: () => ({ severity: 'ok' as const, label: 'ready', icon: 'check' }),
      isBound: () => false,
      idHistory: () => [],
      now: () => 1,
    };
    assert.equal(
      resolveDetails({ deploymentUrl: 'https://elsewhere', workspaceId: 'w', agentName: 'main', parentName: null }, deps),
      undefined,
    );
    assert.equal(resolveDetails({ deploymentUrl: URL, workspaceId: 'w', agentName: 'main', parentName: null }, deps), undefined);
  });

  it('is awaiting data while the deployment is not open or has not answered yet, not once it has', () => {
    const fleet = new Fleet({ deploymentUrl: URL });
    const deps = { sessionOf: (url: string) => (url === URL ? { fleet } : undefined) };
    const t: DetailsTarget = { deploymentUrl: URL, workspaceId: 'w', agentName: 'main', parentName: null };
    assert.equal(awaitingData({ ...t, deploymentUrl: 'https://elsewhere' }, deps), true, 'deployment not open yet');
    assert.equal(awaitingData(t, deps), true, 'open, nothing heard yet');
    fleet.apply({ kind: 'connection', state: { kind: 'connecting' }, at: 1 });
    assert.equal(awaitingData(t, deps), true, 'connecting');
    fleet.apply({ kind: 'connection', state: { kind: 'live' }, at: 2 });
    assert.equal(awaitingData(t, deps), false, 'live without the workspace: it is gone');
    fleet.apply({ kind: 'connection', state: { kind: 'connecting' }, at: 3 });
    fleet.apply({ kind: 'workspace', workspace: workspace({ id: 'w', agents: [agent({ name: 'other' })] }), at: 4 });
    assert.equal(awaitingData(t, deps), false, 'the workspace is known: its agent is gone');
  });
});

describe('followLogsInto', () => {
  let server: FakeServer | undefined;
  afterEach(async () => server?.close());

  it('delivers the backlog and live lines, then resumes after the last id', async () => {
    const afters: Array<string | null> = [];
    let connections = 0;
    server = await new FakeServer().listen();
    server.ws('/api/v2/workspaceagents/a1/logs', (req) => {
      afters.push(new URL(req.url ?? '', 'http://x').searchParams.get('after'));
      return (ws) => {
        connections++;
        if (connections === 1) {
          ws.send(JSON.stringify([{ id: 1, created_at: '2026-01-01T00:00:00Z', output: 'one <b>', level: 'info', source_id: 's' }]));
          ws.send(JSON.stringify([{ id: 2, created_at: 'bad date', output: 'two', level: 'error', source_id: '' }]));
          setTimeout(() => ws.terminate(), 20);
        } else {
          ws.send(JSON.stringify([{ id: 3, created_at: '2026-01-01T00:00:01Z', output: 'three', level: 'info', source_id: 's' }]));
        }
      };
    });
    const client = new CoderClient({ baseUrl: server.url, token: 't' });
    const lines: LogLine[] = [];
    const statuses: LogStatus[] = [];
    const wait = until(() => lines.length >= 3, 5000, 'three log lines');
    const follow = followLogsInto(
      client,
      'a1',
      {
        lines: (l) => {
          lines.push(...l);
          wait.poke();
        },
        status: (s) => statuses.push(s),
      },
      { clock: systemClock, log: silentLogger },
    );
    try {
      await wait.done;
    } finally {
      follow.dispose();
    }
    assert.deepEqual(
      lines.map((l) => [l.id, l.output, l.level, l.source]),
      [
        [1, 'one <b>', 'info', 's'],
        [2, 'two', 'error', null],
        [3, 'three', 'info', 's'],
      ],
    );
    assert.equal(lines[0]?.at, Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(lines[1]?.at, null);
    assert.deepEqual(afters, [null, '2']);
    assert.equal(statuses[0], 'following');
    assert.ok(statuses.includes('error'), 'the drop was reported while reconnecting');
  });

  it('says the logs are unavailable when the deployment has no such stream', async () => {
    server = await new FakeServer().listen();
    const client = new CoderClient({ baseUrl: server.url, token: 't' });
    const statuses: Array<[LogStatus, string | undefined]> = [];
    const wait = until(() => statuses.some(([s]) => s === 'unavailable'), 5000, 'unavailable status');
    const follow = followLogsInto(
      client,
      'nope',
      {
        lines: () => {},
        status: (s, m) => {
          statuses.push([s, m]);
          wait.poke();
        },
      },
      { clock: systemClock, log: silentLogger },
    );
    try {
      await wait.done;
    } finally {
      follow.dispose();
    }
  });
});

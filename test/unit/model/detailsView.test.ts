import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkspaceSchema, type Workspace } from '../../../src/api/schemas';
import {
  actionsFor,
  buildTimeline,
  idChainOf,
  recordTransition,
  toAgentDetailsView,
  type DetailsInput,
} from '../../../src/model/detailsView';
import { AgentDetailsViewSchema, MAX_SHORT } from '../../../src/protocol/detailsPanel';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

function agentJson(over: Record<string, unknown> = {}) {
  return {
    id: 'agent-2',
    parent_id: null,
    name: 'main',
    status: 'connected',
    lifecycle_state: 'ready',
    created_at: iso(0),
    first_connected_at: iso(5),
    last_connected_at: iso(60),
    started_at: iso(10),
    ready_at: iso(25),
    connection_timeout_seconds: 120,
    version: 'v2.24.1',
    api_version: '2.6',
    operating_system: 'linux',
    architecture: 'amd64',
    expanded_directory: '/home/coder',
    health: { healthy: true },
    scripts: [
      { display_name: 'dotfiles', run_on_start: true, run_on_stop: false, start_blocks_login: true, timeout: 300 },
      { display_name: '', run_on_start: false, run_on_stop: true, start_blocks_login: false, timeout: 0 },
    ],
    ...over,
  };
}

function workspace(agents: unknown[], build: Record<string, unknown> = {}): Workspace {
  return WorkspaceSchema.parse({
    id: 'ws-1',
    name: 'dev',
    owner_name: 'alice',
    latest_build: {
      id: 'b-7',
      build_number: 7,
      transition: 'start',
      status: 'running',
      job: { id: 'j', status: 'succeeded' },
      resources: [{ id: 'r', name: 'vm', agents }],
      ...build,
    },
  });
}

function input(over: Partial<DetailsInput> = {}): DetailsInput {
  const ws = over.workspace ?? workspace([agentJson()]);
  return {
    deploymentUrl: 'https://coder.example.com',
    workspace: ws,
    agent: ws.latest_build.resources[0]!.agents[0]!,
    classification: { severity: 'ok', label: 'ready', icon: 'pass-filled' },
    connection: { kind: 'live' },
    bound: false,
    now: T0 + 100_000,
    ...over,
  };
}

describe('recordTransition', () => {
  it('appends a new state and ignores a repeat of the last one', () => {
    let h = recordTransition([], 'created', 1);
    h = recordTransition(h, 'created', 2);
    h = recordTransition(h, 'starting', 3);
    assert.deepEqual(h, [
      { state: 'created', at: 1 },
      { state: 'starting', at: 3 },
    ]);
  });

  it('keeps only the newest 50 entries', () => {
    let h = recordTransition([], 's0', 0);
    for (let i = 1; i < 80; i++) h = recordTransition(h, `s${i}`, i);
    assert.equal(h.length, 50);
    assert.equal(h[0]?.state, 's30');
  });
});

describe('buildTimeline', () => {
  it('derives created/starting/ready from the agent row when nothing was observed', () => {
    const ws = workspace([agentJson()]);
    const t = buildTimeline(ws.latest_build.resources[0]!.agents[0]!, [], 0);
    assert.deepEqual(
      t.map((e) => [e.state, e.at - T0, e.source]),
      [
        ['created', 0, 'server'],
        ['starting', 10_000, 'server'],
        ['ready', 25_000, 'server'],
      ],
    );
  });

  it('puts server times on the latest observed occurrence and keeps earlier ones (a replay)', () => {
    const ws = workspace([agentJson({ started_at: iso(100), ready_at: iso(104) })]);
    const observed = [
      { state: 'created', at: T0 + 1_000 },
      { state: 'starting', at: T0 + 11_000 },
      { state: 'ready', at: T0 + 26_000 },
      { state: 'starting', at: T0 + 101_000 },
      { state: 'ready', at: T0 + 105_000 },
    ];
    const t = buildTimeline(ws.latest_build.resources[0]!.agents[0]!, observed, 0);
    assert.deepEqual(
      t.map((e) => [e.state, (e.at - T0) / 1000, e.source]),
      [
        ['created', 0, 'server'],
        ['starting', 11, 'observed'],
        ['ready', 26, 'observed'],
        ['starting', 100, 'server'],
        ['ready', 104, 'server'],
      ],
    );
  });

  it('names the end of the start phase after the current state (start_error)', () => {
    const ws = workspace([agentJson({ lifecycle_state: 'start_error' })]);
    const t = buildTimeline(ws.latest_build.resources[0]!.agents[0]!, [], 0);
    assert.equal(t.at(-1)?.state, 'start_error');
  });

  it('adds the current state when neither observed nor timed (stuck at created is covered by created_at)', () => {
    const ws = workspace([agentJson({ lifecycle_state: 'shutting_down', updated_at: iso(300) })]);
    const t = buildTimeline(ws.latest_build.resources[0]!.agents[0]!, [], 0);
    assert.deepEqual(t.at(-1), { state: 'shutting_down', at: T0 + 300_000, source: 'server' });
    const stuck = workspace([agentJson({ lifecycle_state: 'created', started_at: null, ready_at: null })]);
    assert.deepEqual(
      buildTimeline(stuck.latest_build.resources[0]!.agents[0]!, [], 0).map((e) => e.state),
      ['created'],
    );
  });

  it('keeps unknown lifecycle values as they are', () => {
    const ws = workspace([agentJson({ lifecycle_state: 'hibernating', started_at: null, ready_at: null, updated_at: null })]);
    const t = buildTimeline(ws.latest_build.resources[0]!.agents[0]!, [], T0 + 9_000);
    assert.deepEqual(t.at(-1), { state: 'hibernating', at: T0 + 9_000, source: 'observed' });
  });
});

describe('actionsFor', () => {
  it('offers replay and reinitialize only for a connected agent of a succeeded start build', () => {
    const ws = workspace([agentJson()]);
    const a = ws.latest_build.resources[0]!.agents[0]!;
    assert.deepEqual(actionsFor(ws, a, true), { replay: true, reinitialize: true, restart: true, reconnect: true, copyDiagnostics: true });
    const disconnected = workspace([agentJson({ status: 'disconnected' })]);
    const d = actionsFor(disconnected, disconnected.latest_build.resources[0]!.agents[0]!, false);
    assert.equal(d.replay, false);
    assert.equal(d.reinitialize, false);
    assert.equal(d.reconnect, false);
  });

  it('offers no restart while a build is running, nor for a stopped workspace', () => {
    const building = workspace([agentJson()], { job: { id: 'j', status: 'running' } });
    assert.equal(actionsFor(building, building.latest_build.resources[0]!.agents[0]!, false).restart, false);
    const stopped = workspace([], { transition: 'stop' });
    const oldAgent = workspace([agentJson()]).latest_build.resources[0]!.agents[0]!;
    const s = actionsFor(stopped, oldAgent, false);
    assert.equal(s.restart, false);
    assert.equal(s.replay, false, 'an agent of an older build cannot be repaired');
  });
});

describe('toAgentDetailsView', () => {
  it('maps an agent to a view the protocol accepts', () => {
    const v = toAgentDetailsView(
      input({
        idHistory: [{ oldId: 'agent-1', newId: 'agent-2', buildNumber: 7, at: T0, cause: 'build 7 started' }],
        bound: true,
      }),
    );
    assert.ok(AgentDetailsViewSchema.safeParse(v).success);
    assert.equal(v.agentId, 'agent-2');
    assert.equal(v.build.number, 7);
    assert.equal(v.directory, '/home/coder');
    assert.deepEqual(v.idHistory, [{ oldId: 'agent-1', newId: 'agent-2', buildNumber: 7, at: T0, cause: 'build 7 started' }]);
    assert.deepEqual(
      v.scripts.map((s) => [s.name, s.startBlocksLogin, s.timeoutSeconds]),
      [
        ['dotfiles', true, 300],
        // Unnamed: the page shows its host-provided word for it.
        ['', false, 0],
      ],
    );
    assert.equal(v.times.readyAt, T0 + 25_000);
    assert.equal(v.actions.reconnect, true);
  });

  it('names the parent of a dev-container sub-agent', () => {
    const ws = workspace([agentJson({ id: 'p', name: 'main' }), agentJson({ id: 'c', name: 'devcontainer', parent_id: 'p' })]);
    const v = toAgentDetailsView(input({ workspace: ws, agent: ws.latest_build.resources[0]!.agents[1]! }));
    assert.equal(v.parentName, 'main');
  });

  it('says how old the state is when the deployment is offline', () => {
    const v = toAgentDetailsView(input({ connection: { kind: 'offline', since: T0 + 50_000, error: 'ECONNREFUSED' } }));
    assert.deepEqual(v.connection, { kind: 'offline', since: T0 + 50_000, error: 'ECONNREFUSED' });
    assert.equal(v.asOf, T0 + 100_000);
  });

  it('passes hostile names through as data, cut to the protocol limits', () => {
    const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const ws = workspace([agentJson({ name: hostile, version: 'x'.repeat(MAX_SHORT * 3) })]);
    const v = toAgentDetailsView(input({ workspace: ws, agent: ws.latest_build.resources[0]!.agents[0]! }));
    assert.equal(v.agentName, hostile);
    assert.equal(v.version.length, MAX_SHORT);
    assert.ok(AgentDetailsViewSchema.safeParse(v).success);
  });

  it('carries the stuck classification', () => {
    const v = toAgentDetailsView(
      input({
        classification: {
          severity: 'warning',
          label: 'created, connected: lifecycle not reported',
          icon: 'warning',
          stuck: true,
          detail: 'Replay the lifecycle.',
        },
      }),
    );
    assert.equal(v.stuck, true);
    assert.equal(v.severity, 'warning');
    assert.equal(v.detail, 'Replay the lifecycle.');
  });
});

describe('diagnoses and repair offers in the view', () => {
  it('carries the worded diagnoses, clamped, and hides the repairs the deployment or the doctor rules out', () => {
    const ws = workspace([agentJson({ lifecycle_state: 'created' })]);
    const a = ws.latest_build.resources[0]!.agents[0]!;
    const v = toAgentDetailsView({
      deploymentUrl: 'https://coder.example.com',
      workspace: ws,
      agent: a,
      classification: { severity: 'warning', label: 'created', icon: 'warning', stuck: true },
      connection: { kind: 'live' },
      bound: true,
      now: 0,
      diagnoses: [{ code: 'survives-restarts', cause: 'again', fix: 'template', logLines: ['x'.repeat(70_000)], link: 'https://x' }],
      offers: { replay: false, reinitialize: false, restart: false },
    });
    assert.equal(v.diagnoses.length, 1);
    assert.equal(v.diagnoses[0]?.code, 'survives-restarts');
    assert.ok((v.diagnoses[0]?.logLines[0]?.length ?? 0) <= 64 * 1024);
    assert.deepEqual(v.actions, { replay: false, reinitialize: false, restart: false, reconnect: true, copyDiagnostics: true });
    assert.ok(AgentDetailsViewSchema.safeParse(v).success);
  });
});

describe('idChainOf', () => {
  const change = (oldId: string, newId: string, at: number, cause = 'build change') => ({ oldId, newId, buildNumber: at, at, cause });

  it("keeps the agent's own chain, oldest first, out of a mixed history", () => {
    const records = [change('b2', 'b3', 9), change('a2', 'a3', 8), change('x1', 'x2', 7), change('a1', 'a2', 6)];
    assert.deepEqual(
      idChainOf('a3', records).map((r) => `${r.oldId}>${r.newId}`),
      ['a1>a2', 'a2>a3'],
    );
    assert.deepEqual(
      idChainOf('a2', records).map((r) => `${r.oldId}>${r.newId}`),
      ['a1>a2'],
    );
    assert.deepEqual(idChainOf('a9', records), []);
  });

  it('takes the first record of a change and survives a cycle', () => {
    const chain = idChainOf('a2', [change('a1', 'a2', 5, 'persisted'), change('a1', 'a2', 6, 'seen here'), change('a2', 'a1', 4)]);
    assert.deepEqual(
      chain.map((r) => [r.oldId, r.newId, r.cause]),
      [
        ['a2', 'a1', 'build change'],
        ['a1', 'a2', 'persisted'],
      ],
    );
  });
});

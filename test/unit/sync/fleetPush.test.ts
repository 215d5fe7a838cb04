import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CoderClient } from '../../../src/api/client';
import { ManualClock } from '../../doubles/manualClock';
import { Emitter } from '../../../src/common/disposable';
import { MemoryLogger } from '../../doubles/memoryLogger';
import type { Change } from '../../../src/model/types';
import { DeploymentSync, type SyncSettings } from '../../../src/sync/deployment';
import { FleetPush, PUSH_GRACE_MS, PUSH_RETRY_MS } from '../../../src/sync/fleetPush';
import type { FleetPushSource, FleetPushState, FleetUpdate } from '../../../src/sync/fleetPushSource';
import { DeploymentSupport } from '../../../src/sync/ladder';
import { FakeServer, USER_JSON, workspaceJson, type WorkspaceSpec } from '../api/fakeServer';
import { RecordingFleet, eventually } from './recordingFleet';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

class FakeSource implements FleetPushSource {
  private readonly updates = new Emitter<FleetUpdate>();
  private readonly states = new Emitter<FleetPushState>();
  readonly onUpdate = this.updates.event;
  readonly onState = this.states.event;
  started = 0;
  disposed = false;
  constructor(readonly ownerId: string) {}
  start(): void {
    this.started++;
  }
  reconnectNow(): void {}
  dispose(): void {
    this.disposed = true;
  }
  state(s: FleetPushState): void {
    this.states.fire(s);
  }
  push(u: Partial<FleetUpdate>): void {
    this.updates.fire({ snapshot: false, upsertedWorkspaces: [], upsertedAgents: [], deletedWorkspaces: [], deletedAgents: [], ...u });
  }
}

interface Env {
  server: FakeServer;
  clock: ManualClock;
  fleet: RecordingFleet;
  log: MemoryLogger;
  sync: DeploymentSync;
  rows: Map<string, Record<string, unknown>>;
  sources: FakeSource[];
  changes: Change[];
  /** Requests sent so far, counted synchronously at fetch time. */
  calls: { n: number };
  support: DeploymentSupport;
}

async function setup(specs: WorkspaceSpec[], settings: Partial<SyncSettings> = {}, support = new DeploymentSupport()): Promise<Env> {
  const server = await new FakeServer().listen();
  const rows = new Map(specs.map((s) => [s.id, workspaceJson(s)] as const));
  server.json('GET /api/v2/users/me', USER_JSON);
  server.json('GET /api/v2/workspaces', () => ({ workspaces: [...rows.values()], count: rows.size }));
  server.on('GET /api/v2/workspaces/:id', () => {});
  const calls = { n: 0 };
  const fetchFn = ((url: string | URL | Request, init?: RequestInit) => {
    calls.n++;
    return fetch(url, init);
  }) as typeof fetch;
  const client = new CoderClient({ baseUrl: server.url, token: TOKEN, fetch: fetchFn });
  const clock = new ManualClock();
  const fleet = new RecordingFleet();
  const log = new MemoryLogger();
  const sources: FakeSource[] = [];
  const sync = new DeploymentSync({
    client,
    fleet,
    clock,
    log,
    support,
    random: () => 1,
    settings: { workspaceFilter: 'owner:me', pollIntervalMs: 15_000, maxLiveWorkspaces: 1, ...settings },
    fleetPush: (ownerId) => {
      const s = new FakeSource(ownerId);
      sources.push(s);
      return s;
    },
  });
  const changes: Change[] = [];
  sync.onChanges((c) => changes.push(...c));
  cleanups.push(
    () => server.close(),
    () => sync.dispose(),
  );
  const env = { server, clock, fleet, log, sync, rows, sources, changes, calls, support };
  serveRows(env);
  return env;
}

/** GET /workspaces/{id} answers from `rows` (404 for unknown ids), registered per id as the rows change. */
function serveRows(env: Env): void {
  for (const id of env.rows.keys()) env.server.json(`GET /api/v2/workspaces/${id}`, () => env.rows.get(id));
}

const gets = (env: Env, path: string) => env.server.count(`GET ${path}`);
const lists = (env: Env) => gets(env, '/api/v2/workspaces');
const reads = (env: Env, id: string) => gets(env, `/api/v2/workspaces/${id}`);

const stopped = (id: string): WorkspaceSpec => ({ id, transition: 'stop', status: 'stopped', agents: [] });
const running = (id: string, agentId = `${id}-a1`, buildNumber = 1): WorkspaceSpec => ({
  id,
  buildNumber,
  agents: [{ id: agentId, name: 'main' }],
});
const pw = (id: string, status: string) => ({ id, name: `ws-${id}`, status });
const pa = (id: string, workspaceId: string) => ({ id, name: 'main', workspaceId });

/** Starts the sync, waits for the activation list read and the push to be asked for; opens it with a snapshot of `rows`. */
async function startWithPush(env: Env): Promise<FakeSource> {
  env.sync.start();
  await eventually(() => env.sources.length === 1, 'the push to be opened');
  const source = env.sources[0]!;
  assert.equal(source.ownerId, USER_JSON.id);
  source.state({ kind: 'open' });
  source.push({ snapshot: true, ...snapshotOf(env) });
  return source;
}

function snapshotOf(env: Env): Pick<FleetUpdate, 'upsertedWorkspaces' | 'upsertedAgents'> {
  const rows = [...env.rows.values()] as ReturnType<typeof workspaceJson>[];
  return {
    upsertedWorkspaces: rows.map((r) => pw(r.id as string, (r.latest_build as { status: string }).status)),
    upsertedAgents: rows.flatMap((r) =>
      ((r.latest_build as { resources: { agents: { id: string; name: string }[] }[] }).resources[0]?.agents ?? []).map((a) =>
        pa(a.id, r.id as string),
      ),
    ),
  };
}

const fleetRungs = (env: Env) => env.fleet.of('fleet-rung').map((e) => e.rung);

test('with the push up and the model equal to its snapshot, an idle core sends nothing until the safety resync', async () => {
  const env = await setup([stopped('s1'), stopped('s2')]);
  await startWithPush(env);
  await env.fleet.until(() => fleetRungs(env).at(-1) === 'push', 'the push to serve the fleet');
  const before = env.calls.n;
  assert.equal(lists(env), 1);
  env.clock.advance(9 * 60_000);
  assert.equal(env.calls.n, before, 'no request over nine idle minutes');
  env.clock.advance(60_000);
  await eventually(() => lists(env) === 2, 'the safety resync at ten minutes');
  assert.match(env.log.lines.join('\n'), /fleet served by push: tailnet WorkspaceUpdates push is open/);
});

test('fleetResyncIntervalMs 0 turns the safety resync off', async () => {
  const env = await setup([stopped('s1')], { fleetResyncIntervalMs: 0 });
  await startWithPush(env);
  await env.fleet.until(() => fleetRungs(env).at(-1) === 'push', 'the push to serve the fleet');
  const before = env.calls.n;
  env.clock.advance(3 * 60 * 60_000);
  assert.equal(env.calls.n, before);
});

test('a snapshot that differs patches what differs, reads only new ones, and removes what it lacks; no list request', async () => {
  const env = await setup([stopped('same'), stopped('changed'), stopped('gone')]);
  env.sync.start();
  await eventually(() => env.sources.length === 1, 'the push to be opened');
  env.rows.set('new', workspaceJson(stopped('new')));
  env.rows.delete('gone');
  serveRows(env);
  env.sources[0]!.state({ kind: 'open' });
  env.sources[0]!.push({ snapshot: true, upsertedWorkspaces: [pw('same', 'stopped'), pw('changed', 'starting'), pw('new', 'stopped')] });
  await env.fleet.until(() => env.fleet.of('workspace-removed').length === 1 && reads(env, 'new') === 1, 'the read of the new one');
  assert.equal(env.fleet.of('workspace-removed')[0]!.workspaceId, 'gone');
  const patched = env.fleet.of('pushed');
  assert.deepEqual(
    patched.map((e) => [
      e.workspace.id,
      e.workspace.latest_build.status,
      e.workspace.latest_build.transition,
      e.workspace.latest_build.job.status,
    ]),
    [['changed', 'starting', 'start', 'running']],
  );
  assert.equal(reads(env, 'same'), 0);
  assert.equal(reads(env, 'changed'), 0, 'the push said all there is to say about a status');
  assert.equal(lists(env), 1);
});

test('created, stopped and deleted at the server: each shows through one read (or none for a deletion), no list request', async () => {
  const env = await setup([running('live'), stopped('w')]);
  env.server.ws('/api/v2/workspaces/live/watch-ws', () => (ws) => {
    ws.send(JSON.stringify({ type: 'ping', data: null }));
    ws.send(JSON.stringify({ type: 'data', data: env.rows.get('live') }));
  });
  const source = await startWithPush(env);
  await env.fleet.until(() => fleetRungs(env).at(-1) === 'push', 'push');
  env.rows.set('n', workspaceJson(running('n')));
  serveRows(env);
  source.push({ upsertedWorkspaces: [pw('n', 'running')], upsertedAgents: [pa('n-a1', 'n')] });
  await env.fleet.until(() => env.fleet.of('workspace').some((e) => e.workspace.id === 'n'), 'the new workspace');
  assert.equal(reads(env, 'n'), 1);
  // A stop of the live workspace: its own stream tells, the push reads nothing.
  source.push({ upsertedWorkspaces: [pw('live', 'stopping')], deletedAgents: [pa('live-a1', 'live')] });
  source.push({ deletedWorkspaces: [pw('w', 'deleting')] });
  await env.fleet.until(() => env.fleet.of('workspace-removed').some((e) => e.workspaceId === 'w'), 'the deletion');
  assert.equal(reads(env, 'w'), 0);
  assert.equal(reads(env, 'live'), 0);
  assert.equal(lists(env), 1);
});

/** A fleet with one streamed workspace (`live`) and `w` out of the live set, the push serving. */
async function rebuildSetup() {
  const env = await setup([running('live'), running('w', 'old-main')]);
  env.server.ws('/api/v2/workspaces/live/watch-ws', () => (ws) => {
    ws.send(JSON.stringify({ type: 'ping', data: null }));
    ws.send(JSON.stringify({ type: 'data', data: env.rows.get('live') }));
  });
  const source = await startWithPush(env);
  await env.fleet.until(() => fleetRungs(env).at(-1) === 'push', 'push');
  assert.deepEqual(env.sync.liveWorkspaces, ['live']);
  return { env, source };
}

/** What the push sends for a rebuild of `w`: the stop deletes the agent, the start upserts its successor. */
function rebuild(env: Env, source: FakeSource): void {
  source.push({ upsertedWorkspaces: [pw('w', 'pending')], deletedAgents: [pa('old-main', 'w')] });
  source.push({ upsertedWorkspaces: [pw('w', 'stopping')] });
  source.push({ upsertedWorkspaces: [pw('w', 'stopped')] });
  env.rows.set('w', workspaceJson(running('w', 'new-main', 3)));
  source.push({ upsertedWorkspaces: [pw('w', 'starting')] });
  source.push({ upsertedWorkspaces: [pw('w', 'running')], upsertedAgents: [pa('new-main', 'w')] });
}

const agentIds = (ws: { latest_build: { resources: { agents: { id: string }[] }[] } }) =>
  ws.latest_build.resources.flatMap((r) => r.agents.map((a) => a.id));

test('a rebuild outside the live set and out of view: the rows follow the push with no request at all', async () => {
  const { env, source } = await rebuildSetup();
  const before = env.calls.n;
  rebuild(env, source);
  const patched = env.fleet.of('pushed').filter((e) => e.workspace.id === 'w');
  assert.deepEqual(
    patched.map((e) => `${e.workspace.latest_build.status}:${agentIds(e.workspace).join(',')}`),
    ['pending:', 'stopping:', 'stopped:', 'starting:', 'running:new-main'],
  );
  const last = patched.at(-1)!;
  assert.deepEqual(
    last.replaced.map((r) => [r.old.id, r.agent.id, r.agent.name, r.agent.lifecycle_state, r.agent.status]),
    [['old-main', 'new-main', 'main', 'created', 'connecting']],
    "the new agent takes the old one's place, across the stop",
  );
  env.clock.advance(5 * 60_000);
  assert.equal(env.calls.n, before, 'no request');
});

test('a rebuild of a workspace in view: one read, when the new agents arrive', async () => {
  const { env, source } = await rebuildSetup();
  env.sync.setVisibleWorkspaces(['live', 'w']);
  assert.deepEqual(env.sync.liveWorkspaces, ['live'], 'the live set is full (one stream)');
  rebuild(env, source);
  await env.fleet.until(() => env.fleet.of('workspace').some((e) => e.workspace.latest_build.build_number === 3), 'the read');
  assert.equal(reads(env, 'w'), 1);
  assert.equal(lists(env), 1);
});

test('rows patched out of view are read when they come into view; many at once take one list read', async () => {
  const specs = [running('live'), ...Array.from({ length: 10 }, (_, i) => stopped(`s${i}`))];
  const env = await setup(specs);
  env.server.ws('/api/v2/workspaces/live/watch-ws', () => (ws) => {
    ws.send(JSON.stringify({ type: 'ping', data: null }));
    ws.send(JSON.stringify({ type: 'data', data: env.rows.get('live') }));
  });
  const source = await startWithPush(env);
  await env.fleet.until(() => fleetRungs(env).at(-1) === 'push', 'push');
  for (let i = 0; i < 10; i++) source.push({ upsertedWorkspaces: [pw(`s${i}`, 'starting')] });
  assert.equal(env.fleet.of('pushed').length, 10);
  // `live` first: it keeps the one stream, the others in view have none.
  env.sync.setVisibleWorkspaces(['live', 's0', 's1']);
  await eventually(() => reads(env, 's0') === 1 && reads(env, 's1') === 1, 'the reads of the two in view');
  env.sync.setVisibleWorkspaces(['live', 's0']);
  env.sync.setVisibleWorkspaces(['live', 's0', 's1']);
  assert.equal(reads(env, 's1'), 1, 'read again only once patched again');
  env.sync.setVisibleWorkspaces(specs.map((w) => w.id));
  const eight = Array.from({ length: 8 }, (_, i) => `s${i + 2}`);
  await eventually(() => eight.every((id) => reads(env, id) === 1), 'the eight others read');
  assert.equal(lists(env), 1, 'eight rows are read one by one');
  for (let i = 0; i < 10; i++) source.push({ upsertedWorkspaces: [pw(`s${i}`, 'running')] });
  env.sync.setVisibleWorkspaces(['live']);
  for (let i = 0; i < 10; i++) source.push({ upsertedWorkspaces: [pw(`s${i}`, 'stopping')] });
  env.sync.setVisibleWorkspaces(specs.map((w) => w.id));
  await eventually(() => lists(env) === 2, 'one list read for ten rows');
  assert.equal(reads(env, 's5'), 1);
});

for (const [status, reason] of [
  [404, 'Route not found'],
  [400, 'Unknown or unsupported API version'],
  [409, 'Non-browser connections are disabled for your deployment.'],
  [403, 'Forbidden by policy'],
] as const) {
  test(`push unavailable (${status}): the list poll serves, the log says why, remembered per deployment, retried after a while`, async () => {
    const support = new DeploymentSupport();
    const env = await setup([stopped('s1')], {}, support);
    env.sync.start();
    await eventually(() => env.sources.length === 1, 'the push to be opened');
    env.sources[0]!.state({ kind: 'unavailable', status, reason: `HTTP ${status} ${reason}` });
    assert.equal(env.sources[0]!.disposed, true);
    assert.equal(fleetRungs(env).at(-1), 'poll');
    assert.match(
      env.log.lines.join('\n'),
      new RegExp(`fleet push: unavailable, HTTP ${status} ${reason.replace('.', '\\.')}; the list poll serves the fleet`),
    );
    env.clock.advance(15_000);
    await eventually(() => lists(env) === 2, 'the list poll');
    // Another sync of the same deployment does not ask again.
    const again = await setup([stopped('s1')], {}, support);
    again.sync.start();
    await eventually(() => again.fleet.of('fleet-rung').some((e) => /unavailable/.test(e.reason)), 'the remembered refusal');
    assert.equal(again.sources.length, 0);
    env.clock.advance(PUSH_RETRY_MS);
    assert.equal(env.sources.length, 2, 'retried after a while');
  });
}

test('WebSockets blocked: three failed upgrades before any open while REST answers move the fleet to the list poll', async () => {
  const env = await setup([stopped('s1')]);
  env.sync.start();
  await eventually(() => env.sources.length === 1, 'the push to be opened');
  for (let i = 0; i < 3; i++) env.sources[0]!.state({ kind: 'closed', reason: 'socket hang up' });
  await eventually(() => /WebSockets blocked/.test(env.log.lines.join('\n')), 'the blocked verdict');
  assert.equal(fleetRungs(env).at(-1), 'poll');
  assert.equal(env.support.pushUnavailable(env.clock.now())?.reason.startsWith('WebSockets blocked'), true);
});

test('a dropped push keeps serving for the grace period, then the list poll takes over until it reopens', async () => {
  const env = await setup([stopped('s1')]);
  const source = await startWithPush(env);
  await env.fleet.until(() => fleetRungs(env).at(-1) === 'push', 'push');
  source.state({ kind: 'closed', reason: 'connection reset' });
  env.clock.advance(PUSH_GRACE_MS - 1);
  assert.equal(lists(env), 1);
  env.clock.advance(1);
  assert.equal(fleetRungs(env).at(-1), 'poll');
  await eventually(() => lists(env) === 2, 'the list poll taking over at once');
  source.state({ kind: 'open' });
  assert.equal(fleetRungs(env).at(-1), 'push');
});

test('a 401 on the push signs the deployment out once, and nothing is sent after', async () => {
  const env = await setup([stopped('s1')]);
  const source = await startWithPush(env);
  source.state({ kind: 'signed-out', detail: 'HTTP 401: You are signed out' });
  assert.deepEqual(
    env.fleet.connectionKinds().filter((k) => k === 'signed-out'),
    ['signed-out'],
  );
  const before = env.calls.n;
  env.clock.advance(60 * 60_000);
  assert.equal(env.calls.n, before);
  assert.equal(source.disposed, true);
});

test("another filter: the list poll stays; the push still patches the owner's workspaces in the model, adds none", async () => {
  const env = await setup([stopped('s1')], { workspaceFilter: 'template:docker' });
  const source = await startWithPush(env);
  await env.fleet.until(() => fleetRungs(env).at(-1) === 'poll' && /not covered/.test(env.fleet.of('fleet-rung').at(-1)!.reason), 'rung');
  source.push({ upsertedWorkspaces: [pw('s1', 'starting'), pw('other', 'running')] });
  assert.deepEqual(
    env.fleet.of('pushed').map((e) => [e.workspace.id, e.workspace.latest_build.status]),
    [['s1', 'starting']],
  );
  assert.equal(reads(env, 's1'), 0);
  assert.equal(reads(env, 'other'), 0);
  env.clock.advance(15_000);
  await eventually(() => lists(env) === 2, 'the list poll');
});

test('a snapshot naming many workspaces the model lacks reads each once, at most four at a time', async () => {
  const clock = new ManualClock();
  const ids = Array.from({ length: 12 }, (_, i) => `w${i}`);
  let inFlight = 0;
  let peak = 0;
  const started: string[] = [];
  const release: (() => void)[] = [];
  const sources: FakeSource[] = [];
  const push = new FleetPush(
    {
      clock,
      log: new MemoryLogger(),
      support: new DeploymentSupport(),
      filter: () => 'owner:me',
      rows: () => new Map(),
      bound: () => undefined,
      isStreamed: () => false,
      serverSkewMs: () => 0,
      inView: () => false,
      patched: () => {},
      read: (id) => {
        started.push(id);
        peak = Math.max(peak, ++inFlight);
        return new Promise<void>((r) => release.push(() => (inFlight--, r())));
      },
      resync: () => {},
      remove: () => {},
      signOut: () => {},
      opened: () => {},
      restWorks: () => Promise.resolve(true),
      rungChanged: () => {},
    },
    (id) => {
      const s = new FakeSource(id);
      sources.push(s);
      return s;
    },
  );
  cleanups.push(() => push.dispose());
  push.begin('user-1');
  sources[0]!.state({ kind: 'open' });
  sources[0]!.push({ snapshot: true, upsertedWorkspaces: ids.map((id) => pw(id, 'starting')) });
  sources[0]!.push({ upsertedWorkspaces: [pw('w11', 'running')] }); // asked again while waiting: still one read
  while (started.length < 12 || release.length) {
    assert.ok(release.length > 0, `reads stalled after ${started.length}`);
    release.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(peak, 4);
  assert.deepEqual([...started].sort(), [...ids].sort());
});

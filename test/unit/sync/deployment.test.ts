import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CoderClient } from '../../../src/api/client';
import { ManualClock } from '../../doubles/manualClock';
import { MemoryLogger } from '../../doubles/memoryLogger';
import { DeploymentSync, type SyncSettings } from '../../../src/sync/deployment';
import { FakeServer, USER_JSON, workspaceJson, type WorkspaceSpec } from '../api/fakeServer';
import { RecordingFleet, eventually } from './recordingFleet';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Env {
  server: FakeServer;
  clock: ManualClock;
  fleet: RecordingFleet;
  log: MemoryLogger;
  sync: DeploymentSync;
  rows: Map<string, Record<string, unknown>>;
  net: { down: boolean; calls: number };
}

async function setup(specs: WorkspaceSpec[], settings: Partial<SyncSettings> = {}): Promise<Env> {
  const server = await new FakeServer().listen();
  const rows = new Map(specs.map((s) => [s.id, workspaceJson(s)] as const));
  server.json('GET /api/v2/users/me', USER_JSON);
  server.json('GET /api/v2/workspaces', () => ({ workspaces: [...rows.values()], count: rows.size }));
  for (const id of rows.keys()) server.json(`GET /api/v2/workspaces/${id}`, () => rows.get(id));
  const net = { down: false, calls: 0 };
  const fetchFn = ((url: string | URL | Request, init?: RequestInit) => {
    net.calls++;
    if (net.down) return Promise.reject(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }));
    return fetch(url, init);
  }) as typeof fetch;
  const client = new CoderClient({ baseUrl: server.url, token: TOKEN, fetch: fetchFn });
  const clock = new ManualClock();
  const fleet = new RecordingFleet();
  const log = new MemoryLogger();
  const sync = new DeploymentSync({
    client,
    fleet,
    clock,
    log,
    random: () => 1,
    settings: { workspaceFilter: 'owner:me', pollIntervalMs: 15_000, maxLiveWorkspaces: 20, ...settings },
  });
  cleanups.push(
    () => server.close(),
    () => sync.dispose(),
  );
  return { server, clock, fleet, log, sync, rows, net };
}

const single = (id: string, extra: Partial<WorkspaceSpec> = {}): WorkspaceSpec => ({
  id,
  agents: [{ id: `${id}-a1`, name: 'main' }],
  ...extra,
});
const multi = (id: string): WorkspaceSpec => ({
  id,
  agents: [
    { id: `${id}-a1`, name: 'main' },
    { id: `${id}-a2`, name: 'dev' },
  ],
});
const stopped = (id: string): WorkspaceSpec => ({ id, transition: 'stop', status: 'stopped', agents: [] });

function serveWatchWs(env: Env, id: string) {
  env.server.ws(`/api/v2/workspaces/${id}/watch-ws`, () => (ws) => {
    ws.send(JSON.stringify({ type: 'ping', data: null }));
    ws.send(JSON.stringify({ type: 'data', data: env.rows.get(id) }));
  });
}

const upgrades = (env: Env, fragment: string) => env.server.requests.filter((r) => r.upgrade && r.path.includes(fragment)).length;

test('start: token check, list, live set; connection-watch plus a watch-ws companion for the bound workspace, watch-ws for the others', async () => {
  const env = await setup([single('w1'), multi('w2'), stopped('w3'), single('w4')]);
  env.server.ws('/api/v2/workspaces/w1/agent-connection-watch', () => (ws) => {
    ws.send(JSON.stringify({ error: null, build_update: { transition: 'start', job_status: 'succeeded' } }));
    ws.send(JSON.stringify({ error: null, agent_update: { lifecycle: 'ready', id: 'w1-a1' } }));
  });
  for (const id of ['w1', 'w2', 'w4']) serveWatchWs(env, id);
  const changes: unknown[] = [];
  env.sync.onChanges((c) => changes.push(...c));
  env.sync.setBoundWorkspace('w1');
  env.sync.setBoundAgentName('w1', 'main');
  env.sync.start();
  const pushed = (id: string) => env.fleet.of('workspace').some((e) => e.workspace.id === id);
  await env.fleet.until(
    () => env.fleet.of('connection-watch').length === 2 && pushed('w1') && pushed('w2') && pushed('w4'),
    'stream events',
  );
  assert.deepEqual(env.fleet.connectionKinds(), ['connecting', 'live']);
  assert.deepEqual(env.fleet.rungs('w1'), ['connection-watch']);
  assert.deepEqual(env.fleet.rungs('w2'), ['watch-ws']);
  assert.deepEqual(env.fleet.rungs('w4'), ['watch-ws'], 'a single-agent workspace that is not bound gets the stream with statuses');
  assert.equal(env.sync.rungOf('w3'), 'poll');
  assert.equal(env.sync.rungOf('nope'), undefined);
  assert.deepEqual(env.sync.liveWorkspaces.sort(), ['w1', 'w2', 'w4']);
  const cw = env.fleet.of('connection-watch')[1]!;
  assert.equal(cw.agentName, 'main');
  assert.equal(cw.event.agent_update?.lifecycle, 'ready');
  assert.equal(env.fleet.of('workspaces')[0]?.workspaces.length, 4);
  assert.ok(changes.length > 0, 'changes are emitted');
  const upgrade = env.server.requests.find((r) => r.upgrade && r.path.includes('w1/agent-connection-watch'));
  assert.match(upgrade?.path ?? '', /agent_name=main/);
  assert.equal(upgrade?.headers['coder-session-token'], TOKEN);
  assert.equal(upgrades(env, 'w1/watch-ws'), 1, 'the companion of the bound workspace');
  assert.equal(upgrades(env, 'agent-connection-watch'), 1, 'connection-watch for the bound workspace only');
});

test('the companion pushes what connection-watch cannot tell: a ready agent disconnecting; no re-reads while it pushes', async () => {
  const env = await setup([{ id: 'w1', agents: [{ id: 'a1', name: 'main', status: 'connecting', lifecycle: 'created' }] }]);
  env.server.ws('/api/v2/workspaces/w1/agent-connection-watch', () => (ws) => {
    ws.send(JSON.stringify({ agent_update: { lifecycle: 'created', id: 'a1' } }));
  });
  const sockets: { send(s: string): void }[] = [];
  env.server.ws('/api/v2/workspaces/w1/watch-ws', () => (ws) => {
    sockets.push(ws);
    ws.send(JSON.stringify({ type: 'data', data: env.rows.get('w1') }));
  });
  env.sync.setBoundWorkspace('w1');
  env.sync.setBoundAgentName('w1', 'main');
  env.sync.start();
  const agentStatus = () => env.fleet.of('workspace').at(-1)?.workspace.latest_build.resources[0]?.agents?.[0]?.status;
  await env.fleet.until(
    () => env.fleet.of('connection-watch').length === 1 && sockets.length === 1 && agentStatus() === 'connecting',
    'both streams',
  );
  const reads = env.server.count('GET /api/v2/workspaces/w1');
  env.clock.advance(10_000);
  for (const [status, lifecycle] of [
    ['connected', 'ready'],
    ['disconnected', 'ready'],
  ] as const) {
    env.rows.set('w1', workspaceJson({ id: 'w1', agents: [{ id: 'a1', name: 'main', status, lifecycle }] }));
    sockets[0]!.send(JSON.stringify({ type: 'data', data: env.rows.get('w1') }));
    await env.fleet.until(() => agentStatus() === status, `${status} pushed`);
  }
  assert.equal(env.server.count('GET /api/v2/workspaces/w1'), reads, 'no re-read of a connecting agent while the companion pushes');
});

test('a 404 on connection-watch is remembered for the deployment; a workspace bound later starts at watch-ws', async () => {
  const env = await setup([single('w1'), single('w2'), stopped('w3')]);
  for (const id of ['w1', 'w2', 'w3']) serveWatchWs(env, id);
  env.sync.setBoundWorkspace('w1');
  env.sync.setBoundAgentName('w1', 'main');
  env.sync.start();
  await env.fleet.until(() => env.fleet.rungs('w1').includes('watch-ws') && env.fleet.rungs('w2').includes('watch-ws'), 'fallback');
  assert.equal(upgrades(env, 'agent-connection-watch'), 1);
  env.sync.setBoundWorkspace('w2');
  env.sync.setBoundAgentName('w2', 'main');
  env.sync.setVisibleWorkspaces(['w3']);
  await env.fleet.until(() => env.fleet.rungs('w3').includes('watch-ws'), 'w3 on watch-ws');
  assert.equal(upgrades(env, 'agent-connection-watch'), 1, 'no new connection-watch attempt');
  assert.deepEqual(env.fleet.rungs('w2'), ['watch-ws'], 'the newly bound workspace stays on watch-ws');
  assert.deepEqual(env.fleet.rungs('w3'), ['watch-ws']);
});

test('all streams missing: each workspace ends on SSE, then on poll', async () => {
  const env = await setup([multi('w1')]);
  env.sync.start();
  await env.fleet.until(() => env.fleet.rungs('w1').includes('poll'), 'poll rung');
  assert.equal(env.sync.rungOf('w1'), 'poll');
  assert.deepEqual(env.fleet.rungs('w1'), ['watch-ws', 'sse', 'poll']);
});

test('401 on the list: signed out once, no request until refresh(), then live again', async () => {
  const env = await setup([single('w1')]);
  let expired = true;
  env.server.on('GET /api/v2/users/me', (_q, res) => {
    res.writeHead(expired ? 401 : 200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(expired ? { message: 'You are signed out or your session has expired.', detail: 'expired' } : USER_JSON));
  });
  env.sync.start();
  await env.fleet.until(() => env.fleet.connectionKinds().includes('signed-out'), 'signed-out');
  const count = env.server.requests.length;
  env.clock.advance(10 * 60_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(env.server.requests.length, count, 'no retry while signed out');
  assert.deepEqual(env.fleet.connectionKinds(), ['connecting', 'signed-out']);
  assert.equal(env.clock.pendingTimers(), 0);
  expired = false;
  await env.sync.refresh();
  assert.deepEqual(env.fleet.connectionKinds(), ['connecting', 'signed-out', 'connecting', 'live']);
  assert.ok(!env.log.lines.join('\n').includes(TOKEN));
});

test('401 on a stream upgrade stops every stream and poll of the deployment', async () => {
  const env = await setup([multi('w1'), multi('w2')]);
  serveWatchWs(env, 'w1');
  let refused = false;
  env.server.ws('/api/v2/workspaces/w2/watch-ws', () => 401);
  env.server.ws('/api/v2/workspaces/w1/watch-ws', () => (ws) => {
    ws.send(JSON.stringify({ type: 'data', data: env.rows.get('w1') }));
    refused = true;
  });
  env.sync.start();
  await env.fleet.until(() => env.fleet.connectionKinds().includes('signed-out'), 'signed-out');
  const count = env.server.requests.length;
  env.clock.advance(10 * 60_000);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(env.server.requests.length, count);
  assert.equal(env.fleet.connectionKinds().filter((k) => k === 'signed-out').length, 1);
  assert.deepEqual(env.sync.liveWorkspaces, []);
  void refused;
});

test('network down: offline with the time it started, probed with a backoff up to the poll interval, live again after the first success', async () => {
  const env = await setup([stopped('w1')]);
  env.net.down = true;
  const t0 = env.clock.now();
  env.sync.start();
  await env.fleet.until(() => env.fleet.connectionKinds().includes('offline'), 'offline');
  // Probed after 1, 2, 4, 8 s, then at the poll interval (15 s).
  for (const step of [1000, 2000, 4000, 8000, 15_000, 15_000]) {
    const calls = env.net.calls;
    env.clock.advance(step - 1);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(env.net.calls, calls, `no probe before ${step} ms`);
    env.clock.advance(1);
    await eventually(() => env.net.calls === calls + 1, `the probe after ${step} ms`);
  }
  assert.deepEqual(env.fleet.connectionKinds(), ['connecting', 'offline'], 'one offline event, since kept');
  env.net.down = false;
  env.clock.advance(15_000);
  await env.fleet.until(() => env.fleet.connectionKinds().includes('live'), 'live');
  const offline = env.fleet.of('connection').find((e) => e.state.kind === 'offline');
  assert.deepEqual(env.fleet.connectionKinds(), ['connecting', 'offline', 'live']);
  assert.equal(offline?.state.kind === 'offline' && offline.state.since, t0);
});

test('a stream that cannot connect while REST works keeps the deployment live; with REST down it is offline', async () => {
  const env = await setup([multi('w1')]);
  env.server.ws('/api/v2/workspaces/w1/watch-ws', () => 0);
  env.sync.start();
  await eventually(() => env.log.lines.some((l) => l.includes('retry in')), 'first failure');
  env.clock.advance(5000); // the first failure came right after the initial poll: no probe needed then
  await eventually(() => env.log.lines.some((l) => l.includes('checking the deployment')), 'probe');
  await env.fleet.until(() => env.fleet.of('workspaces').length === 2, 'probe answered');
  assert.deepEqual(env.fleet.connectionKinds(), ['connecting', 'live']);
  env.net.down = true;
  env.clock.advance(5000);
  await env.fleet.until(() => env.fleet.connectionKinds().includes('offline'), 'offline');
  assert.equal(env.sync.rungOf('w1'), 'watch-ws', 'network failures do not move the ladder');
});

test('the list poll runs at the interval while visible and four times slower while hidden', async () => {
  const env = await setup([stopped('w1')]);
  const polls = () => env.fleet.of('workspaces').length;
  env.sync.start();
  await env.fleet.until(() => polls() === 1, 'first poll');
  env.clock.advance(15_000);
  await env.fleet.until(() => polls() === 2, 'second poll');
  env.sync.setViewVisible(false);
  env.clock.advance(15_000);
  env.clock.advance(44_999);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(polls(), 2, 'hidden: no poll before 60 s after the last one');
  env.clock.advance(1);
  await env.fleet.until(() => polls() === 3, 'hidden poll');
  env.sync.setViewVisible(true);
  env.clock.advance(15_000);
  await env.fleet.until(() => polls() === 4, 'visible again');
});

test('after a stream reconnects, the workspace is read again by REST', async () => {
  const env = await setup([multi('w1')]);
  let opens = 0;
  env.server.ws('/api/v2/workspaces/w1/watch-ws', () => (ws) => {
    opens++;
    ws.send(JSON.stringify({ type: 'data', data: env.rows.get('w1') }));
    if (opens === 1) setImmediate(() => ws.close(1001));
  });
  env.sync.start();
  await eventually(() => env.log.lines.some((l) => l.includes('retry in 250 ms')), 'backoff');
  const reads = env.server.count('GET /api/v2/workspaces/w1');
  env.clock.advance(250);
  await eventually(() => env.server.count('GET /api/v2/workspaces/w1') === reads + 1, 'resync read');
  assert.equal(opens, 2);
  assert.deepEqual(env.fleet.rungs('w1'), ['watch-ws']);
});

test('connection-watch without a companion (no watch-ws): while the agent is connecting the workspace is re-read until it connects', async () => {
  const env = await setup([{ id: 'w1', agents: [{ id: 'a1', name: 'main', status: 'connecting', lifecycle: 'created' }] }]);
  env.server.ws('/api/v2/workspaces/w1/agent-connection-watch', () => (ws) => {
    ws.send(JSON.stringify({ agent_update: { lifecycle: 'created', id: 'a1' } }));
  });
  env.sync.setBoundWorkspace('w1');
  env.sync.setBoundAgentName('w1', 'main');
  env.sync.start();
  const reads = () => env.fleet.of('workspace').length;
  // One read on open, one for the frame (coalesced reads may merge them).
  await env.fleet.until(() => env.fleet.of('connection-watch').length === 1 && reads() >= 1, 'first read');
  await new Promise((r) => setTimeout(r, 30));
  const n = reads();
  env.clock.advance(2000);
  await env.fleet.until(() => reads() === n + 1, 'settle read');
  env.rows.set('w1', workspaceJson({ id: 'w1', agents: [{ id: 'a1', name: 'main', status: 'connected', lifecycle: 'created' }] }));
  env.clock.advance(2000);
  await env.fleet.until(() => reads() === n + 2, 'read that sees connected');
  env.clock.advance(10_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(reads(), n + 2, 'no more reads once connected');
  assert.equal(env.server.count('GET /api/v2/workspaces/w1'), n + 2);
});

test('binding an agent of a multi-agent workspace moves it to connection-watch for that agent, unbinding moves it back', async () => {
  const env = await setup([multi('w1')]);
  serveWatchWs(env, 'w1');
  env.server.ws('/api/v2/workspaces/w1/agent-connection-watch', () => (ws) => {
    ws.send(JSON.stringify({ agent_update: { lifecycle: 'ready', id: 'w1-a2' } }));
  });
  env.sync.start();
  await env.fleet.until(() => env.fleet.rungs('w1').includes('watch-ws'), 'watch-ws first');
  env.sync.setBoundWorkspace('w1');
  env.sync.setBoundAgentName('w1', 'dev');
  await env.fleet.until(() => env.fleet.of('connection-watch').length === 1, 'connection-watch frame');
  assert.equal(env.fleet.of('connection-watch')[0]?.agentName, 'dev');
  assert.equal(env.sync.rungOf('w1'), 'connection-watch');
  assert.ok(env.server.requests.some((r) => r.path.endsWith('agent-connection-watch?agent_name=dev')));
  env.sync.setBoundWorkspace(undefined);
  await env.fleet.until(() => env.fleet.rungs('w1').at(-1) === 'watch-ws', 'back to watch-ws once unbound');
  assert.deepEqual(env.fleet.rungs('w1'), ['watch-ws', 'connection-watch', 'watch-ws']);
});

test('bad frames are skipped and logged once per kind; the stream goes on', async () => {
  const env = await setup([multi('w1')]);
  env.server.ws('/api/v2/workspaces/w1/watch-ws', () => (ws) => {
    for (let i = 0; i < 50; i++) ws.send(JSON.stringify({ type: 'data', data: { id: i } }));
    ws.send('{truncated');
    ws.send(JSON.stringify({ type: 'data', data: env.rows.get('w1') }));
  });
  env.sync.start();
  await env.fleet.until(() => env.fleet.of('workspace').length === 1, 'good frame');
  const warnings = env.log.lines.filter((l) => l.includes('invalid frame skipped'));
  assert.equal(warnings.length, 2, warnings.join('\n'));
});

test('maxLiveWorkspaces caps the streams; dispose leaves no socket and no timer', async () => {
  const env = await setup([multi('w1'), multi('w2'), multi('w3')], { maxLiveWorkspaces: 2 });
  for (const id of ['w1', 'w2', 'w3']) serveWatchWs(env, id);
  env.sync.start();
  await eventually(() => env.server.sockets.size === 2, 'two sockets');
  assert.deepEqual(env.sync.liveWorkspaces, ['w1', 'w2']);
  env.sync.updateSettings({ maxLiveWorkspaces: 1 });
  assert.deepEqual(env.sync.liveWorkspaces, ['w1']);
  assert.deepEqual(env.fleet.rungs('w2'), ['watch-ws', 'poll']);
  env.sync.dispose();
  await eventually(() => env.server.sockets.size === 0, 'sockets closed');
  assert.equal(env.clock.pendingTimers(), 0);
});

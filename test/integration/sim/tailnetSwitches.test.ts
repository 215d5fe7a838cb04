import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type Simulator } from '../../sim';
import { get } from './helpers';
import { connectTailnet, openStream, pbFields, workspaceUpdatesCall, yamuxData, yamuxHeader, type TailnetClient } from './tailnetWire';

const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';

async function setup(t: { after(fn: () => unknown): void }): Promise<{ sim: Simulator; me: string }> {
  const sim = await startSimulator({ clock: 'manual' });
  t.after(() => sim.close());
  sim.createWorkspace({ name: 'dev' });
  return { sim, me: (await get(sim, '/users/me')).body.id };
}

async function subscribe(sim: Simulator, me: string): Promise<TailnetClient> {
  const c = connectTailnet(sim);
  await c.opened;
  c.send(openStream(1), yamuxData(1, workspaceUpdatesCall(me)));
  await c.until(() => c.packets.length >= 1, 'the snapshot');
  return c;
}

const refusal = (sim: Simulator, query = '?version=2.3', headers?: Record<string, string>) => connectTailnet(sim, query, headers).refused;
const unsupported = (detail: string) => ({ message: 'Unknown or unsupported API version', validations: [{ field: 'version', detail }] });

test('upgrade refusals as coderd: 401 bodies, the version check (a missing version reads as 2.0), a foreign Origin', async (t) => {
  const { sim } = await setup(t);
  assert.deepEqual(await refusal(sim, '?version=2.3', {}), {
    status: 401,
    body: { message: SIGNED_OUT, detail: 'Cookie "coder_session_token" or header "Coder-Session-Token" must be provided.' },
  });
  assert.deepEqual(await refusal(sim, '?version=2.3', { 'Coder-Session-Token': 'abcdefghij-abcdefghijklmnopqrstuv' }), {
    status: 401,
    body: { message: SIGNED_OUT, detail: 'API key is invalid.' },
  });
  const cases: Array<[string, string]> = [
    ['2.99', 'server is at version 2.6, behind requested minor version 2.99'],
    ['3.0', 'server is at version 2.6, behind requested major version 3.0'],
    ['1.0', 'version 1.0 is no longer supported'],
    ['cats', 'invalid version string: cats'],
    ['2.x', 'invalid minor version: 2.x'],
  ];
  for (const [version, detail] of cases)
    assert.deepEqual(await refusal(sim, `?version=${version}`), { status: 400, body: unsupported(detail) });
  const foreign = await refusal(sim, '?version=2.3', { 'Coder-Session-Token': sim.token, Origin: 'https://elsewhere.example' });
  assert.deepEqual(foreign, {
    status: 403,
    body: `request Origin "https://elsewhere.example" is not authorized for Host "${new URL(sim.url).host}"\n`,
  });
  const bare = connectTailnet(sim, '');
  await bare.opened;
  bare.ws.close();
});

test('switches: absent 404, old server 400, browser-only 409, refused 403; set in-process or through the admin surface', async (t) => {
  const { sim } = await setup(t);
  sim.setTailnet({ mode: 'absent' });
  assert.deepEqual(await refusal(sim, '?version=2.3', {}), { status: 404, body: { message: 'Route not found.' } });
  sim.setTailnet({ mode: 'old-server' });
  assert.deepEqual(await refusal(sim), { status: 400, body: unsupported('server is at version 2.2, behind requested minor version 2.3') });
  const admin = await fetch(`${sim.url}/__sim/tailnet`, {
    method: 'POST',
    headers: { 'X-Sim-Admin-Token': sim.adminToken, 'Content-Type': 'application/json' },
    body: JSON.stringify({ mode: 'browser-only' }),
  });
  assert.equal(admin.status, 200);
  assert.deepEqual(await refusal(sim), { status: 409, body: { message: 'Non-browser connections are disabled for your deployment.' } });
  sim.setTailnet({ mode: 'refused' });
  const refused = await refusal(sim);
  assert.equal(refused.status, 403);
  assert.equal(typeof refused.body.message, 'string');
  sim.fault('clear'); // configuration, not a fault: it stays
  assert.equal((await refusal(sim)).status, 403);
  sim.setTailnet({ mode: 'on' });
  (await subscribe(sim, (await get(sim, '/users/me')).body.id)).ws.close();
  assert.equal(sim.stats().requestsByRoute['WS tailnet'], 6);
});

test('drop: open sessions close (1006) and new ones are dropped after the upgrade until it is switched back', async (t) => {
  const { sim, me } = await setup(t);
  const c = await subscribe(sim, me);
  sim.setTailnet({ mode: 'drop' });
  assert.equal(await c.closed, 1006);
  const again = connectTailnet(sim);
  await again.opened;
  assert.equal(await again.closed, 1006);
  sim.setTailnet({ mode: 'on' });
  const back = await subscribe(sim, me);
  assert.equal(back.updates()[0]!.upsertedWorkspaces.length, 1);
});

test('half-open: nothing is sent any more, pings unanswered, the socket stays up', async (t) => {
  const { sim, me } = await setup(t);
  const c = await subscribe(sim, me);
  const seen = c.messages.length;
  sim.setTailnet({ mode: 'half-open' });
  c.send(yamuxHeader(2, 1, 0, 5));
  sim.build(sim.world.findWorkspace('dev')!.id, 'stop');
  // A WebSocket ping after the yamux ping: its pong comes after anything the server wrote for the ping.
  const pong = new Promise<void>((resolve) => c.ws.once('pong', () => resolve()));
  c.ws.ping();
  await pong;
  await sim.clock.advance(60_000);
  const pong2 = new Promise<void>((resolve) => c.ws.once('pong', () => resolve()));
  c.ws.ping();
  await pong2;
  assert.equal(c.messages.length, seen, 'no byte after the switch');
  assert.equal(c.wsPings, 0);
  assert.equal(sim.stats().tailnetSessions, 1);
});

test('garbage: bytes that are not a yamux frame, a dRPC frame of an unknown kind, a protobuf that does not decode', async (t) => {
  const { sim, me } = await setup(t);
  const c = await subscribe(sim, me);
  sim.setTailnet({ mode: 'garbage' });
  await c.until(() => c.frames.some((f) => f.type === -1), 'a header with a version other than 0');
  c.ws.close();
  sim.setTailnet({ mode: 'on', garbage: 'drpc' });
  const d = await subscribe(sim, me);
  sim.setTailnet({ mode: 'garbage' });
  await d.until(() => d.packets.length === 2, 'the broken frame');
  assert.deepEqual([d.packets[1]!.kind, d.packets[1]!.message], [12, 2]);
  sim.setTailnet({ mode: 'on', garbage: 'protobuf' });
  sim.setTailnet({ mode: 'garbage' });
  await d.until(() => d.packets.length === 3, 'the broken message');
  assert.equal(d.packets[2]!.kind, 2);
  assert.throws(() => pbFields(d.packets[2]!.data));
  // New sessions get the broken message in place of the snapshot while the fault is on.
  const e = await subscribe(sim, me);
  assert.throws(() => pbFields(e.packets[0]!.data));
});

test("oversize: a message over 4 MiB, sent within the client's window", async (t) => {
  const { sim, me } = await setup(t);
  const c = await subscribe(sim, me);
  sim.setTailnet({ mode: 'oversize' });
  await c.until(() => c.packets.length === 2, 'the oversize message', 20_000);
  assert.ok(c.packets[1]!.data.length > 4 * 1024 * 1024);
  assert.ok(c.frames.every((f) => f.type !== 0 || f.length <= 256 * 1024));
  // A client that never reads: the server stops at the 256 KiB window and resumes by the update only.
  const slow = connectTailnet(sim);
  slow.autoWindow = false;
  await slow.opened;
  slow.send(openStream(1), yamuxData(1, workspaceUpdatesCall(me)));
  const onStream1 = () => slow.frames.filter((f) => f.type === 0 && f.stream === 1).reduce((n, f) => n + f.length, 0);
  await slow.until(() => onStream1() === 256 * 1024, 'a full window');
  await slow.barrier(1);
  assert.equal(onStream1(), 256 * 1024);
  slow.send(yamuxHeader(1, 0, 1, 1000));
  await slow.barrier(2);
  assert.equal(onStream1(), 256 * 1024 + 1000);
});

test('server shutdown: a go away, then close 1001; a text message closes with 1003; drop-streams drops the session too', async (t) => {
  const { sim, me } = await setup(t);
  const c = await subscribe(sim, me);
  sim.fault('server-shutdown');
  assert.equal(await c.closed, 1001);
  assert.deepEqual(c.frames[c.frames.length - 1], { ...c.frames[c.frames.length - 1]!, type: 3, flags: 0, stream: 0, length: 0 });
  const d = await subscribe(sim, me);
  d.ws.send('hello');
  assert.equal(await d.closed, 1003);
  const e = await subscribe(sim, me);
  sim.fault('drop-streams');
  assert.equal(await e.closed, 1006);
});

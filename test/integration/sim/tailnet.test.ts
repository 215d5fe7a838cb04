import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type Simulator } from '../../sim';
import { get } from './helpers';
import {
  connectTailnet,
  hex,
  openStream,
  RPC_NAME,
  workspaceUpdatesCall,
  yamuxData,
  yamuxHeader,
  type TailnetClient,
  type Update,
} from './tailnetWire';

const fast = { agentTimings: { connectMs: 10, startingMs: 10, readyMs: 10 }, buildTimings: { pendingMs: 10, runningMs: 10 } };

async function setup(t: { after(fn: () => unknown): void }): Promise<{ sim: Simulator; me: string }> {
  const sim = await startSimulator({ clock: 'manual', ...fast });
  t.after(() => sim.close());
  return { sim, me: (await get(sim, '/users/me')).body.id };
}

/** Opens the session and the WorkspaceUpdates call, the request split over messages at odd places. */
async function subscribe(sim: Simulator, ownerId: string): Promise<TailnetClient> {
  const c = connectTailnet(sim);
  await c.opened;
  const bytes = Buffer.concat([openStream(1), yamuxData(1, workspaceUpdatesCall(ownerId))]);
  for (let i = 0; i < bytes.length; i += 5) c.send(bytes.subarray(i, i + 5));
  await c.until(() => c.packets.length >= 1, 'the snapshot');
  return c;
}

const ws = (id: string, name: string, status: string) => ({ id, name, status });
const agents = (sim: Simulator, id: string, names: string[]) =>
  names.map((n) => ({ id: sim.findAgent(id, n).id as string, name: n, workspaceId: id }));
const update = (u: Partial<Update>): Update => ({
  upsertedWorkspaces: [],
  upsertedAgents: [],
  deletedWorkspaces: [],
  deletedAgents: [],
  ...u,
});

test('snapshot: every non-deleted workspace of the owner, each with the agents of its latest build; header and body in separate messages', async (t) => {
  const { sim, me } = await setup(t);
  const dev = sim.createWorkspace({ name: 'dev', agents: [{ name: 'main', children: [{ name: 'devcontainer' }] }] });
  const parked = sim.createWorkspace({ name: 'parked', state: 'stopped' });
  const gone = sim.createWorkspace({ name: 'gone' });
  sim.build(gone, 'delete');
  await sim.clock.advance(100);
  sim.createWorkspace({ owner: 'bob', name: 'theirs' });

  const c = await subscribe(sim, me);
  // The stream's ACK comes first: a window update with ACK and delta 0.
  assert.deepEqual(hex('00 01 0002 00000001 00000000'), c.messages[0]);
  // The first packet: Message, done, dRPC stream 1, message 1, the length, the WorkspaceUpdate.
  const body = c.frames.find((f) => f.type === 0)!.body;
  assert.deepEqual([...body.subarray(0, 3)], [0x05, 0x01, 0x01]);
  assert.equal(c.packets[0]!.message, 1);
  const snap = c.updates()[0]!;
  snap.upsertedWorkspaces.sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(
    snap,
    update({
      upsertedWorkspaces: [ws(dev, 'dev', 'RUNNING'), ws(parked, 'parked', 'STOPPED')],
      upsertedAgents: agents(sim, dev, ['main', 'devcontainer']),
    }),
  );
  for (const f of c.frames) {
    assert.equal(f.headerAt[1], 0, 'a header starts a message');
    assert.equal(c.messages[f.headerAt[0]]!.length, 12, 'a header is a message of its own');
    if (f.bodyAt) {
      assert.deepEqual(f.bodyAt, [f.headerAt[0] + 1, 0], 'the body is the next message');
      assert.equal(c.messages[f.bodyAt[0]]!.length, f.length, 'the body is all of it');
    }
  }
  const stats = sim.stats();
  assert.equal(stats.tailnetSessions, 1);
  assert.equal(stats.openStreams, 0, 'the tailnet session is not a workspace stream');
  assert.equal(stats.requestsByRoute['WS tailnet'], 1);
  assert.equal(stats.tailnetUpdatesSent, 1);
  assert.equal(
    stats.tailnetBytesSent,
    c.messages.reduce((n, m) => n + m.length, 0),
  );
  assert.ok(stats.bytesSent > stats.tailnetBytesSent, 'the session bytes are in bytesSent too');
  c.ws.close();
  await c.closed;
  await c.until(() => sim.stats().tailnetSessions === 0, 'the session gone on the server');
});

test('rebuild: old agents deleted with the stop PENDING, statuses one by one, new agents with RUNNING; lifecycle sends nothing', async (t) => {
  const { sim, me } = await setup(t);
  const dev = sim.createWorkspace({ name: 'dev', agents: [{ name: 'main', children: [{ name: 'devcontainer' }] }] });
  const before = agents(sim, dev, ['main', 'devcontainer']);
  const c = await subscribe(sim, me);
  sim.scenario('rebuild', dev);
  await sim.clock.advance(500); // both builds, then the agents connect and report starting and ready
  await c.barrier(1);
  const after = agents(sim, dev, ['main', 'devcontainer']);
  assert.notDeepEqual(after, before);
  assert.deepEqual(c.updates().slice(1), [
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'PENDING')], deletedAgents: before }),
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'STOPPING')] }),
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'STOPPED')] }),
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'PENDING')] }),
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'STARTING')] }),
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'RUNNING')], upsertedAgents: after }),
  ]);
  assert.deepEqual(
    c.packets.map((p) => `${p.kind}:${p.stream}:${p.message}`),
    [1, 2, 3, 4, 5, 6, 7].map((n) => `2:1:${n}`),
  );
});

test('lifecycle and connection changes send nothing; a stop deletes the agents', async (t) => {
  const { sim, me } = await setup(t);
  const dev = sim.createWorkspace({ name: 'dev' });
  const main = agents(sim, dev, ['main']);
  const c = await subscribe(sim, me);
  sim.setLifecycle(main[0]!.id, 'starting');
  sim.setLifecycle(main[0]!.id, 'ready');
  sim.setAgentConnected(main[0]!.id, false);
  await c.barrier(7);
  assert.equal(c.packets.length, 1, 'nothing after the snapshot');
  sim.build(dev, 'stop');
  await sim.clock.advance(100);
  await c.barrier(8);
  assert.deepEqual(c.updates().slice(1), [
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'PENDING')], deletedAgents: main }),
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'STOPPING')] }),
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'STOPPED')] }),
  ]);
});

test('delete: PENDING, DELETING, then once in deleted_workspaces with DELETING; DELETED is never sent', async (t) => {
  const { sim, me } = await setup(t);
  const dev = sim.createWorkspace({ name: 'dev' });
  const main = agents(sim, dev, ['main']);
  const c = await subscribe(sim, me);
  sim.build(dev, 'delete');
  await sim.clock.advance(100);
  await c.barrier(1);
  const created = sim.createWorkspace({ name: 'fresh', agents: [] });
  await sim.clock.advance(1000);
  await c.barrier(2);
  assert.deepEqual(c.updates().slice(1), [
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'PENDING')], deletedAgents: main }),
    update({ upsertedWorkspaces: [ws(dev, 'dev', 'DELETING')] }),
    update({ deletedWorkspaces: [ws(dev, 'dev', 'DELETING')] }),
    update({ upsertedWorkspaces: [ws(created, 'fresh', 'RUNNING')] }),
  ]);
});

test("another owner's id: an empty snapshot (a zero-length message), then nothing", async (t) => {
  const { sim } = await setup(t);
  const bob = sim.addUser('bob').id;
  const theirs = sim.createWorkspace({ owner: 'bob', name: 'theirs' });
  const c = await subscribe(sim, bob);
  assert.deepEqual(
    c.frames.filter((f) => f.type === 0).map((f) => f.body),
    [hex('05 01 01 00')],
  );
  sim.scenario('rebuild', theirs);
  await sim.clock.advance(500);
  await c.barrier(3);
  assert.equal(c.packets.length, 1);
});

test('unknown rpc: Error code 0 with the name quoted; a malformed owner id: Close and no Error; FIN answered with FIN', async (t) => {
  const { sim, me } = await setup(t);
  const c = connectTailnet(sim);
  await c.opened;
  const rpc = '/coder.tailnet.v2.Tailnet/Nope';
  c.send(openStream(1), yamuxData(1, workspaceUpdatesCall(me, rpc)));
  // Stream 3: a second dRPC connection whose request carries a 15-byte owner id.
  c.send(openStream(3), yamuxData(3, Buffer.concat([hex('03 01 01 2a'), Buffer.from(RPC_NAME)])));
  c.send(yamuxData(3, Buffer.concat([hex('05 01 02 11 0a 0f'), Buffer.alloc(15, 7), hex('0d 01 03 00')])));
  await c.barrier(1);
  const text = `protocol error: unknown rpc: "${rpc}"`;
  const on = (id: number) => Buffer.concat(c.frames.filter((f) => f.type === 0 && f.stream === id).map((f) => f.body));
  assert.deepEqual(on(1), Buffer.concat([hex('07 01 01'), Buffer.from([8 + text.length]), Buffer.alloc(8), Buffer.from(text)]));
  assert.deepEqual(on(3), hex('0b 01 01 00'));
  c.send(yamuxHeader(1, 4, 1, 0)); // FIN on stream 1
  await c.barrier(2);
  assert.ok(c.frames.some((f) => f.type === 1 && f.stream === 1 && f.flags === 4));
});

test('pings: answered with ACK and the same opaque; the server pings 0, 1, ... and drops a session that does not answer in 10 s', async (t) => {
  const { sim, me } = await setup(t);
  const c = await subscribe(sim, me);
  await c.barrier(0xdead);
  const pings = () => c.frames.filter((f) => f.type === 2 && f.flags === 1).map((f) => f.length);
  await sim.clock.advance(15_000);
  await c.until(() => c.wsPings >= 1, 'a WebSocket protocol ping');
  await sim.clock.advance(15_000);
  await c.until(() => pings().length === 1, 'the first yamux ping');
  assert.deepEqual(pings(), [0]);
  c.send(yamuxHeader(2, 2, 0, 0));
  await c.barrier(1);
  await sim.clock.advance(29_999);
  assert.equal(pings().length, 1, 'the next ping an interval after the answer');
  await sim.clock.advance(1);
  await c.until(() => pings().length === 2, 'the second yamux ping');
  assert.deepEqual(pings(), [0, 1]);
  await sim.clock.advance(9_999);
  await c.barrier(2);
  await sim.clock.advance(1);
  assert.equal(await c.closed, 1006);
});

test('yamux edges: data for an unknown stream is skipped, big client data earns a window update, an overrun is a protocol error', async (t) => {
  const { sim, me } = await setup(t);
  const c = connectTailnet(sim);
  await c.opened;
  c.send(yamuxData(9, Buffer.alloc(3000, 1))); // never opened
  await c.barrier(1);
  // An InvokeMetadata packet of 130 KiB (ignored by the server) consumes more than half the window.
  const metadata = Buffer.concat([Buffer.from([0x0f, 0x01, 0x01, 0x80, 0x90, 0x08]), Buffer.alloc(130 * 1024)]);
  c.send(openStream(3));
  for (let i = 0; i < metadata.length; i += 16 * 1024) c.send(yamuxData(3, metadata.subarray(i, i + 16 * 1024)));
  await c.barrier(2);
  const updates = c.frames.filter((f) => f.type === 1 && f.stream === 3 && f.flags === 0);
  assert.equal(updates.length, 1);
  assert.ok(updates[0]!.length >= 128 * 1024);
  c.send(openStream(1), yamuxData(1, workspaceUpdatesCall(me)));
  await c.until(() => c.packets.length === 1, 'the snapshot');
  // 256 KiB + 1 in one frame: more than the window the server announced.
  c.send(yamuxData(1, Buffer.alloc(256 * 1024 + 1)));
  assert.equal(await c.closed, 1000);
  assert.deepEqual(c.frames[c.frames.length - 1], { ...c.frames[c.frames.length - 1]!, type: 3, flags: 0, stream: 0, length: 1 });
});

test('protocol errors: a second SYN for an open stream is a go away; a dRPC id going backwards ends that stream with FIN', async (t) => {
  const { sim, me } = await setup(t);
  const c = await subscribe(sim, me);
  c.send(openStream(3), yamuxData(3, hex('05 01 05 00')), yamuxData(3, hex('05 01 04 00')));
  await c.barrier(1);
  assert.ok(
    c.frames.some((f) => f.type === 1 && f.stream === 3 && f.flags === 4),
    'FIN on stream 3',
  );
  c.send(openStream(1));
  assert.equal(await c.closed, 1000);
  assert.equal(c.frames[c.frames.length - 1]!.type, 3);
  assert.equal(c.frames[c.frames.length - 1]!.length, 1);
  const d = connectTailnet(sim);
  await d.opened;
  d.send(Buffer.from([1, ...Buffer.alloc(11)])); // yamux version 1
  assert.equal(await d.closed, 1000);
});

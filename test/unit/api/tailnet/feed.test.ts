/**
 * The whole stack against a tiny in-test WebSocket server that replays the observed bytes of a
 * Coder server: the upgrade (headers, path, refusals with their bodies), the client's opening
 * bytes, the header/body split of each packet, reconnects with a fresh snapshot.
 */
import { test, after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CoderClient } from '../../../../src/api/client';
import { systemClock } from '../../../../src/common/clock';
import { MemoryLogger } from '../../../doubles/memoryLogger';
import { WorkspaceUpdatesFeed, feedState, type FleetFeedState, type FleetUpdate } from '../../../../src/api/tailnet/feed';
import { F, OWNER, T, cat, observedCall, pbUpdate, toHex, uuid, uvarint, yh } from './wire';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';
const W = uuid(1);
const A = uuid(2);
const A2 = uuid(3);
const SNAPSHOT = pbUpdate({
  up: [{ id: W.bytes, name: 'dev', status: 3 }],
  upAgents: [{ id: A.bytes, name: 'main', workspaceId: W.bytes }],
});
const DIFF = pbUpdate({
  upAgents: [{ id: A2.bytes, name: 'main', workspaceId: W.bytes }],
  delAgents: [{ id: A.bytes, name: 'main', workspaceId: W.bytes }],
});

type Mode = { kind: 'serve' } | { kind: 'refuse'; status: number; body: unknown } | { kind: 'garbage' } | { kind: 'close'; code: number };

interface Upgrade {
  url: string;
  headers: http.IncomingHttpHeaders;
}

let server: http.Server;
let wss: WebSocketServer;
let url = '';
let modes: Mode[] = [];
let upgrades: Upgrade[] = [];
let meReads = 0;
let received: Buffer[] = [];
let sockets: WebSocket[] = [];
const pokes = new Set<() => void>();
const poke = () => {
  for (const p of pokes) p();
};

/** Resolves once `check` holds, re-checked on every event; rejects after a generous bound. */
function when(check: () => boolean, what: string, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = () => {
      if (!check()) return;
      pokes.delete(p);
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      pokes.delete(p);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    pokes.add(p);
    p();
  });
}

/** A packet as the server writes it: the yamux header and the body as two WebSocket messages. */
function sendPacket(ws: WebSocket, messageId: number, data: Uint8Array): void {
  const packet = cat([0x05, 0x01, ...uvarint(messageId), ...uvarint(data.length)], data);
  ws.send(yh(T.data, 0, 1, packet.length));
  ws.send(packet);
}

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/api/v2/users/me') {
      meReads++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: OWNER, username: 'alice', email: 'a@example.com', name: '', status: 'active', roles: [] }));
      return;
    }
    res.writeHead(404).end();
  });
  wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    const mode = modes.shift() ?? { kind: 'serve' };
    poke();
    if (mode.kind === 'refuse') {
      const body = JSON.stringify(mode.body);
      socket.end(
        `HTTP/1.1 ${mode.status} No\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      if (mode.kind === 'garbage') {
        ws.send(Buffer.from('not yamux at all'));
        return;
      }
      if (mode.kind === 'close') {
        ws.close(mode.code, 'policy');
        return;
      }
      let answered = false;
      ws.on('message', (data: Buffer) => {
        received.push(data);
        poke();
        if (answered) return;
        answered = true;
        ws.send(yh(T.window, F.ack, 1, 0));
        sendPacket(ws, 1, SNAPSHOT);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const ws of sockets) ws.terminate();
  wss.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  modes = [];
  upgrades = [];
  received = [];
  meReads = 0;
  for (const ws of sockets) ws.terminate();
  sockets = [];
});

function start(client = new CoderClient({ baseUrl: url, token: TOKEN })) {
  const log = new MemoryLogger();
  const feed = new WorkspaceUpdatesFeed({ client, clock: systemClock, log, backoff: { baseMs: 1, capMs: 5 }, random: () => 1 });
  const updates: FleetUpdate[] = [];
  const states: FleetFeedState[] = [];
  feed.onUpdate((u) => {
    updates.push(u);
    poke();
  });
  feed.onState((s) => {
    states.push(s);
    poke();
  });
  feed.start();
  return { feed, updates, states, log };
}

test('replays a Coder session: exact client bytes, no Origin, the token header, snapshot then diffs, reconnect with a new snapshot', async () => {
  const { feed, updates, states, log } = start();
  try {
    await when(() => updates.length === 1, 'the snapshot');
    assert.equal(upgrades[0]?.url, '/api/v2/tailnet?version=2.3');
    assert.equal(upgrades[0]?.headers['coder-session-token'], TOKEN);
    assert.equal(upgrades[0]?.headers.origin, undefined);
    assert.equal(upgrades[0]?.headers['sec-websocket-extensions'], undefined, 'no permessage-deflate');
    const call = observedCall();
    assert.equal(
      toHex(Buffer.concat(received).subarray(0, 12 + 12 + call.length)),
      toHex(cat(yh(T.window, F.syn, 1, 0), yh(T.data, 0, 1, call.length), call)),
    );
    assert.deepEqual(updates[0], {
      snapshot: true,
      upsertedWorkspaces: [{ id: W.text, name: 'dev', status: 'running' }],
      upsertedAgents: [{ id: A.text, name: 'main', workspaceId: W.text }],
      deletedWorkspaces: [],
      deletedAgents: [],
    });
    sendPacket(sockets[0]!, 2, DIFF);
    await when(() => updates.length === 2, 'the diff');
    assert.equal(updates[1]?.snapshot, false);
    assert.deepEqual(updates[1]?.deletedAgents, [{ id: A.text, name: 'main', workspaceId: W.text }]);
    assert.deepEqual(updates[1]?.upsertedAgents, [{ id: A2.text, name: 'main', workspaceId: W.text }]);
    assert.deepEqual(
      states.map((s) => s.kind),
      ['connecting', 'open'],
    );

    sockets[0]!.terminate(); // the deployment restarts
    await when(() => updates.length === 3, 'the snapshot after the reconnect');
    assert.equal(updates[2]?.snapshot, true);
    assert.deepEqual(
      states.map((s) => s.kind),
      ['connecting', 'open', 'closed', 'connecting', 'open'],
    );
    assert.deepEqual(states.at(-1), { kind: 'open', reconnect: true });
    assert.equal(meReads, 1, 'the owner id is read once');
    assert.equal(log.lines.filter((l) => l.includes('session ended')).length, 1);
    assert.ok(log.lines.every((l) => !l.includes(TOKEN)));
  } finally {
    feed.dispose();
  }
});

test("the upgrade uses the client's network options: its agent (proxy, CA, insecure) and the header command's headers, minus Origin", async () => {
  let connections = 0;
  class CountingAgent extends http.Agent {
    override createConnection(...args: Parameters<http.Agent['createConnection']>): ReturnType<http.Agent['createConnection']> {
      connections++;
      return super.createConnection(...args);
    }
  }
  const client = new CoderClient({
    baseUrl: url,
    token: TOKEN,
    agent: new CountingAgent(),
    headers: () => ({ 'X-Corp-Auth': 'from-header-command', Origin: 'https://example.com' }),
  });
  const { feed, updates } = start(client);
  try {
    await when(() => updates.length === 1, 'the snapshot');
    assert.equal(connections, 1);
    assert.equal(upgrades[0]?.headers['x-corp-auth'], 'from-header-command');
    assert.equal(upgrades[0]?.headers.origin, undefined);
    assert.equal(upgrades[0]?.headers['coder-session-token'], TOKEN);
  } finally {
    feed.dispose();
  }
});

test('only a 401 on the upgrade signs out', async () => {
  modes = [
    {
      kind: 'refuse',
      status: 401,
      body: { message: 'You are signed out or your session has expired. Please sign in again to continue.', detail: 'expired' },
    },
  ];
  const { feed, states } = start();
  try {
    await when(() => feed.state.kind === 'signed-out', 'signed out');
    const last = states.at(-1);
    assert.equal(last?.kind, 'signed-out');
    if (last?.kind === 'signed-out') assert.match(last.reason, /HTTP 401 You are signed out.*\(expired\)/);
    assert.equal(upgrades.length, 1);
  } finally {
    feed.dispose();
  }
});

const unavailable: [number, unknown, Partial<Extract<FleetFeedState, { kind: 'unavailable' }>>][] = [
  [
    400,
    {
      message: 'Unknown or unsupported API version',
      validations: [{ field: 'version', detail: 'server is at version 2.2, behind requested minor version 2.3' }],
    },
    {
      message: 'Unknown or unsupported API version',
      validations: [{ field: 'version', detail: 'server is at version 2.2, behind requested minor version 2.3' }],
    },
  ],
  [403, { message: 'Forbidden by policy', detail: 'proxy rule 7' }, { message: 'Forbidden by policy', detail: 'proxy rule 7' }],
  [404, { message: 'Route not found.' }, { message: 'Route not found.' }],
  [
    409,
    { message: 'Non-browser connections are disabled for your deployment.' },
    { message: 'Non-browser connections are disabled for your deployment.' },
  ],
];

for (const [status, body, expected] of unavailable) {
  test(`a ${status} on the upgrade means the push is not available here, with the server's words`, async () => {
    modes = [{ kind: 'refuse', status, body }];
    const { feed, log } = start();
    try {
      await when(() => feed.state.kind === 'unavailable', 'unavailable');
      const s = feed.state;
      assert.equal(s.kind, 'unavailable');
      if (s.kind !== 'unavailable') return;
      assert.equal(s.status, status);
      assert.equal(s.message, expected.message);
      assert.equal(s.detail, expected.detail);
      assert.deepEqual(s.validations, expected.validations);
      assert.equal(upgrades.length, 1, 'no retry');
      assert.equal(log.lines.filter((l) => l.includes('not available here')).length, 1);
      assert.ok(log.lines.some((l) => l.includes(String(expected.message))));
    } finally {
      feed.dispose();
    }
  });
}

test('a 4403 close (a mirrored 403) is "not available here", a 4401 signs out', async () => {
  modes = [{ kind: 'close', code: 4403 }];
  const a = start();
  try {
    await when(() => a.feed.state.kind === 'unavailable', 'unavailable');
    assert.equal(a.feed.state.kind === 'unavailable' && a.feed.state.status, 403);
  } finally {
    a.feed.dispose();
  }
  modes = [{ kind: 'close', code: 4401 }];
  const b = start();
  try {
    await when(() => b.feed.state.kind === 'signed-out', 'signed out');
  } finally {
    b.feed.dispose();
  }
});

test('a 500 on the upgrade is retried with backoff', async () => {
  modes = [{ kind: 'refuse', status: 500, body: { message: 'database is down' } }];
  const { feed, updates, log } = start();
  try {
    await when(() => updates.length === 1, 'the snapshot after the retry');
    assert.equal(upgrades.length, 2);
    assert.ok(log.lines.some((l) => l.includes('HTTP 500 database is down')));
  } finally {
    feed.dispose();
  }
});

test('garbage bytes end that session with one log line and a reconnect, never a crash', async () => {
  modes = [{ kind: 'garbage' }];
  const { feed, updates, log } = start();
  try {
    await when(() => updates.length === 1, 'the snapshot after the reconnect');
    const ended = log.lines.filter((l) => l.includes('session ended'));
    assert.equal(ended.length, 1);
    assert.match(ended[0] ?? '', /protocol error: yamux: unknown version/);
    assert.equal(updates[0]?.snapshot, true);
  } finally {
    feed.dispose();
  }
});

test('dispose closes the session: the server sees FIN and go away, then the close', async () => {
  const { feed, updates } = start();
  await when(() => updates.length === 1, 'the snapshot');
  const before = received.length;
  const closed = new Promise<void>((r) => sockets[0]!.once('close', () => r()));
  feed.dispose();
  await closed;
  assert.equal(toHex(Buffer.concat(received.slice(before))), toHex(cat(yh(T.window, F.fin, 1, 0), yh(T.goAway, 0, 0, 0))));
  assert.equal(feed.state.kind, 'disposed');
});

test('feedState: the reducer states as the feed reports them', () => {
  assert.deepEqual(
    feedState({ kind: 'backoff', attempt: 2, opens: 0, delayMs: 750, reason: { kind: 'network', message: 'ECONNREFUSED' } }),
    {
      kind: 'closed',
      reason: 'ECONNREFUSED',
      retryInMs: 750,
      attempt: 2,
      opens: 0,
    },
  );
  assert.deepEqual(feedState({ kind: 'open', attempt: 0, opens: 2, stable: false }), { kind: 'open', reconnect: true });
  assert.deepEqual(
    feedState({ kind: 'closed-permanently', reason: 'fatal', detail: 'HTTP 410', cause: { kind: 'http', status: 410, message: 'Gone' } }),
    { kind: 'unavailable', status: 410, reason: 'HTTP 410 Gone', message: 'Gone', detail: undefined, validations: undefined },
  );
  assert.deepEqual(feedState({ kind: 'closed-permanently', reason: 'unsupported', detail: 'not a UUID' }), {
    kind: 'unavailable',
    status: 0,
    reason: 'not a UUID',
  });
  assert.deepEqual(feedState({ kind: 'closed-permanently', reason: 'disposed', detail: 'disposed' }), { kind: 'disposed' });
});
